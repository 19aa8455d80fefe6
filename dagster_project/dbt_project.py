"""Where the dbt project lives, for the dbt assets and for preparing its manifest.

Kept apart from defs/dbt.py: that module reads target/manifest.json when it is imported,
so the manifest must be prepared (`dbt parse`) before anything imports it.
"""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
