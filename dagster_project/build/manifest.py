"""dbt's target/manifest.json, which dagster-dbt loads the models from: parsed only when the
project changed, and the parse left for the build's first dbt invocation to start from."""

import shutil
from pathlib import Path

from dagster_project.build.environment import put_this_environment_on_path
from dagster_project.lib.child_process import child_environment
from dagster_project.lib.warehouse import PARTIAL_PARSE, dbt_environment, dbt_target_dir


def manifest_is_current(manifest: Path, project_dir: Path) -> bool:
    """True when target/manifest.json is newer than every file and folder of the dbt
    project and its seed folder (../seeds/reference; a folder's time changes when a file
    in it is added, removed or renamed) and than uv.lock (dbt or dagster-dbt upgraded)."""
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    skipped = {"target", "logs", "dbt_packages"}
    sources = [project_dir, project_dir.parent / "seeds" / "reference"]
    paths = [project_dir.parent / "uv.lock", *sources]
    for folder in sources:
        paths += [
            path for path in folder.rglob("*") if skipped.isdisjoint(path.relative_to(folder).parts)
        ]
    return all(path.stat().st_mtime <= built for path in paths if path.exists())


def prepare_dbt_manifest(warehouse: Path | None = None) -> None:
    """dagster-dbt loads the models from target/manifest.json: parse the project first,
    unless the manifest is newer than every project file (saves a `dbt parse`, ~6 s).

    Given the build's `warehouse` (a build without dbt variables), a parse made here has
    the build's dbt profile, so the build's first dbt invocation
    starts from it instead of parsing again (defs/dbt.py takes the newest parse of the
    warehouse).
    """
    from dagster_project.dbt_project import DBT_PROJECT_DIR, dbt_project

    put_this_environment_on_path()
    if manifest_is_current(dbt_project.manifest_path, DBT_PROJECT_DIR):
        return
    with child_environment(dbt_environment(warehouse) if warehouse else {}):
        dbt_project.preparer.prepare(dbt_project)
    if warehouse is not None:
        _seed_start_of_build(dbt_project.manifest_path.with_name(PARTIAL_PARSE), warehouse)


def _seed_start_of_build(parse: Path, warehouse: Path) -> None:
    """The parse just made, where the build's first dbt invocation looks for one."""
    start = dbt_target_dir(warehouse) / "start_of_build"
    start.mkdir(parents=True, exist_ok=True)
    shutil.copy2(parse, start / PARTIAL_PARSE)
