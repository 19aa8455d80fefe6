"""Where the dbt project lives, for the dbt assets and for preparing its manifest.

Kept apart from defs/dbt.py: that module reads target/manifest.json when it is imported,
so the manifest must be prepared (`dbt parse`) before anything imports it.
"""

from functools import cache
from pathlib import Path

import yaml
from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


@cache
def project_vars() -> dict[str, object]:
    """The settings of dbt_project.yml (`vars:`) with their defaults."""
    return dict(yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"])
