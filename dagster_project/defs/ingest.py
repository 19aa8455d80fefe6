"""Ingest assets: every snapshot folder of the landing directory into raw.<object>.

`raw/snapshots` records the snapshot folders and creates the raw tables; one asset
per CRM object then loads that object's file of every snapshot (lib/ingest/ does the
DuckDB work). Rejected rows never stop the build; a file-level problem does, with one
message naming the file and the column.
"""

from datetime import date
from pathlib import Path

import dagster as dg

from dagster_project.defs.resources import WAREHOUSE_POOL, BuildSettings, WorkWarehouse
from dagster_project.lib.crm_schema import OBJECTS, OBJECTS_BY_NAME, CrmObject
from dagster_project.lib.ingest.delivery import DeliveryLimits, delivery_problems
from dagster_project.lib.ingest.errors import FileLevelError, OldRawLayoutError
from dagster_project.lib.ingest.landing import Landing, scan_landing
from dagster_project.lib.ingest.load import IngestOptions, check_time_zone, load_snapshot
from dagster_project.lib.ingest.raw_schema import ensure_raw_schema

SNAPSHOTS_KEY = dg.AssetKey(["raw", "snapshots"])

# One partition per snapshot folder (YYYY-MM-DD), added by the sensor or by `recurwise
# build`. A run may load several snapshots at once (single-run backfill policy).
snapshot_partitions = dg.DynamicPartitionsDefinition(name="snapshots")
PARTITIONED = {
    "partitions_def": snapshot_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "pool": WAREHOUSE_POOL,
}


def run_snapshot_folders(
    context: dg.AssetExecutionContext, settings: BuildSettings
) -> tuple[dict[date, Path], Landing]:
    """The landing folders of the snapshot partitions this run loads, and the landing."""
    try:
        landing = scan_landing(settings.landing)
    except FileLevelError as exc:
        raise dg.Failure(description=str(exc)) from None
    folders = {}
    for key in context.partition_keys:
        snapshot_date = date.fromisoformat(key)
        if snapshot_date not in landing.snapshots:
            raise dg.Failure(
                description=f"snapshot {key} has no folder in {settings.landing} any more"
            )
        folders[snapshot_date] = landing.snapshots[snapshot_date]
    return folders, landing


@dg.asset(
    key=SNAPSHOTS_KEY,
    **PARTITIONED,
    group_name="ingest",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    description=(
        "Snapshot folders (YYYY-MM-DD) found in the landing directory; creates the raw "
        "tables in the run's work file."
    ),
)
def raw_snapshots(
    context: dg.AssetExecutionContext, settings: BuildSettings, warehouse: WorkWarehouse
) -> dg.MaterializeResult:
    snapshots, landing = run_snapshot_folders(context, settings)
    with warehouse.connect() as con:
        try:
            ensure_raw_schema(con)
        except OldRawLayoutError as exc:
            raise dg.Failure(description=str(exc)) from None
        for snapshot_date, folder in snapshots.items():
            con.execute(
                "insert or replace into raw.snapshots values (?, ?, current_timestamp::timestamp)",
                [snapshot_date, str(folder)],
            )
        total = con.execute("select count(*) from raw.snapshots").fetchone()[0]
    context.log.info(
        f"{len(snapshots)} snapshot folders in {settings.landing}; work file {warehouse.path}"
    )
    for warning in landing.warnings:
        context.log.warning(warning)
    return dg.MaterializeResult(
        metadata={
            "snapshots_in_run": len(snapshots),
            "snapshots_in_warehouse": total,
            "latest_snapshot": str(max(snapshots)),
        }
    )


def ingest_options(
    con, settings: BuildSettings, warehouse: WorkWarehouse
) -> tuple[IngestOptions, DeliveryLimits]:
    """How this build reads its files and gates its deliveries, from its settings."""
    try:
        # Both are checked as settings (lib/settings.py); the zone also against DuckDB's.
        encoding = str(settings.setting("export_encoding"))
        time_zone = str(settings.setting("org_time_zone"))
        check_time_zone(con, time_zone)
        limits = DeliveryLimits(
            max_row_drop_pct=float(settings.setting("max_row_drop_pct")),
            max_reject_pct=float(settings.setting("max_reject_pct")),
        )
    except ValueError as exc:
        raise dg.Failure(description=str(exc)) from None
    options = IngestOptions(encoding, time_zone, scratch_dir=warehouse.path.parent)
    return options, limits


def delivery_failure(problems: list[tuple[date, str]]) -> dg.Failure:
    """The run's failure for snapshots a delivery gate stopped, saying how to accept them."""
    dates = sorted({str(d) for d, _ in problems})
    return dg.Failure(
        description="; ".join(p for _, p in problems)
        + ". If the delivery is right, publish it with "
        + " ".join(f"--accept-snapshot {d}" for d in dates)
    )


def build_ingest_asset(obj: CrmObject) -> dg.AssetsDefinition:
    required = "" if obj.optional else " Required in every snapshot."

    @dg.asset(
        key=dg.AssetKey(["raw", obj.table]),
        deps=[SNAPSHOTS_KEY, *(dg.AssetKey(["raw", OBJECTS_BY_NAME[n].table]) for n in obj.reads)],
        **PARTITIONED,
        group_name="ingest",
        owners=["team:data-engineering"],
        kinds={"duckdb"},
        description=(
            f"{obj.name} rows of every snapshot, typed, stored as versions (first and last "
            f"snapshot that show each row); bad rows go to raw.rejects with a reason.{required}"
        ),
    )
    def _ingest(
        context: dg.AssetExecutionContext, settings: BuildSettings, warehouse: WorkWarehouse
    ) -> dg.MaterializeResult:
        load_id = context.run.run_id
        loaded = rejected = skipped = 0
        per_snapshot = {}
        # This run's snapshots only: snapshots loaded by earlier builds stay as they are.
        folders, landing = run_snapshot_folders(context, settings)
        problems = []
        with warehouse.connect() as con:
            options, limits = ingest_options(con, settings, warehouse)
            for snapshot_date, folder in folders.items():
                export = landing.files[snapshot_date].files.get(obj.name)
                try:
                    result = load_snapshot(
                        con, obj, snapshot_date, folder, export, load_id, options
                    )
                except FileLevelError as exc:
                    raise dg.Failure(description=str(exc)) from None
                accepted = str(snapshot_date) in settings.accepted_snapshot_dates
                if not result.skipped and not accepted:
                    problems += [
                        (snapshot_date, p) for p in delivery_problems(con, obj, result, limits)
                    ]
                if result.skipped:
                    skipped += 1
                    continue
                loaded += result.rows_loaded
                rejected += result.rows_rejected
                per_snapshot[str(snapshot_date)] = (
                    f"{result.rows_loaded} loaded, {result.rows_rejected} rejected"
                )
                if result.rows_rejected:
                    context.log.warning(
                        f"{result.source_file}: {result.rows_rejected} of {result.rows_in_file} "
                        f"rows rejected; see raw.rejects where object_name = '{obj.name}'"
                    )
                if result.extra_columns:
                    context.log.info(
                        f"{result.source_file}: extra columns kept: "
                        f"{', '.join(result.extra_columns)}"
                    )
        if problems:
            # The work file is thrown away: the published warehouse stays as it was.
            raise delivery_failure(problems)
        return dg.MaterializeResult(
            metadata={
                "rows_loaded": loaded,
                "rows_rejected": rejected,
                "files_already_loaded": skipped,
                "per_snapshot": dg.MetadataValue.json(per_snapshot),
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(obj) for obj in OBJECTS]


@dg.definitions
def ingest() -> dg.Definitions:
    return dg.Definitions(assets=[raw_snapshots, *ingest_assets])
