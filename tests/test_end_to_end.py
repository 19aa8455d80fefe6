"""The whole build job on the bundled demo snapshots, asserted on real values."""

import re
from pathlib import Path

import polars as pl

from dagster_project.lib.crm_schema import OBJECTS
from dagster_project.lib.warehouse import work_path
from dagster_project.runner import DEMO_LANDING

SNAPSHOTS = sorted(p for p in DEMO_LANDING.iterdir() if p.is_dir())
LATEST = SNAPSHOTS[-1]


def read_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_build_publishes_the_file_and_leaves_no_work_file(demo_build):
    assert demo_build.warehouse.is_file()
    assert not work_path(demo_build.warehouse).exists()
    assert demo_build.snapshots == [p.name for p in SNAPSHOTS]
    marts = dict(demo_build.marts)
    assert marts["fct_opportunities"] > 0 and marts["dim_accounts"] > 0


def test_every_csv_row_is_loaded_or_rejected(demo_db):
    loads = {
        (name, str(day)): (loaded, rejected)
        for name, day, loaded, rejected in demo_db.execute(
            "select object_name, snapshot_date, rows_loaded, rows_rejected from raw._loads"
        ).fetchall()
    }
    for folder in SNAPSHOTS:
        for obj in OBJECTS:
            path = folder / f"{obj.name}.csv"
            if not path.exists():
                continue
            loaded, rejected = loads[(obj.name, folder.name)]
            assert loaded + rejected == read_csv(path).height, path
            table_rows = demo_db.execute(
                f"select count(*) from raw.{obj.table} where _snapshot_date = ?", [folder.name]
            ).fetchone()[0]
            assert table_rows == loaded


def test_raw_rows_carry_load_metadata(demo_db):
    nulls = demo_db.execute(
        "select count(*) from raw.opportunity where _snapshot_date is null or _source_file is null "
        "or _file_sha256 is null or _load_id is null or _loaded_at is null or _line_number is null"
    ).fetchone()[0]
    assert nulls == 0


def test_opportunities_mart_is_the_latest_snapshot(demo_db):
    expected = read_csv(LATEST / "Opportunity.csv").select(
        pl.col("Id").alias("opportunity_id"),
        pl.col("StageName").alias("stage_name"),
        pl.col("Amount").cast(pl.Decimal(18, 2)).alias("amount"),
        pl.col("CloseDate").str.to_date().alias("close_date"),
    )
    mart = demo_db.sql(
        "select opportunity_id, stage_name, amount, close_date from marts.fct_opportunities"
    ).pl()
    assert mart.height == expected.height
    joined = expected.join(mart, on="opportunity_id", suffix="_mart")
    assert joined.height == expected.height
    assert (joined["stage_name"] == joined["stage_name_mart"]).all()
    assert (joined["close_date"] == joined["close_date_mart"]).all()
    assert joined.filter(pl.col("amount").ne_missing(pl.col("amount_mart"))).is_empty()


def _domain(website: str | None) -> str | None:
    if not website:
        return None
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", website.strip().lower())
    return re.sub(r"^www\.|[/?#:].*$", "", text) or None


def test_accounts_with_one_website_domain_share_a_master(demo_db):
    accounts = read_csv(LATEST / "Account.csv").filter(pl.col("MasterRecordId").is_null())
    domains = accounts.select("Id", pl.col("Website").map_elements(_domain, return_dtype=pl.String))
    masters = demo_db.sql(
        "select account_id as Id, master_account_id from intermediate.int_accounts_mastered"
    ).pl()
    grouped = (
        domains.join(masters, on="Id")
        .drop_nulls("Website")
        .group_by("Website")
        .agg(pl.col("master_account_id").n_unique().alias("masters"), pl.len().alias("accounts"))
    )
    assert grouped["masters"].max() == 1
    assert grouped["accounts"].max() > 1  # the demo holds duplicate accounts


def test_merged_accounts_follow_their_master_record(demo_db):
    merged = read_csv(LATEST / "Account.csv").filter(pl.col("MasterRecordId").is_not_null())
    assert merged.height > 0
    mapping = dict(
        demo_db.execute(
            "select account_id, master_account_id from intermediate.int_accounts_mastered"
        ).fetchall()
    )
    for account_id, master_record_id in merged.select("Id", "MasterRecordId").iter_rows():
        assert mapping[account_id] == mapping[master_record_id]


def test_opportunity_history_versions_follow_the_snapshots(demo_db):
    first = read_csv(SNAPSHOTS[0] / "Opportunity.csv").select("Id", "StageName")
    last = read_csv(LATEST / "Opportunity.csv").select("Id", "StageName")
    changed = first.join(last, on="Id").filter(pl.col("StageName") != pl.col("StageName_right"))
    assert changed.height > 0
    opportunity_id = changed["Id"][0]
    versions = demo_db.execute(
        "select valid_from, valid_to, stage_name from marts.fct_opportunity_history "
        "where opportunity_id = ? order by valid_from",
        [opportunity_id],
    ).fetchall()
    assert versions[0][0].isoformat() == SNAPSHOTS[0].name
    assert versions[0][2] == changed["StageName"][0]
    assert versions[-1][1] is None and versions[-1][2] == changed["StageName_right"][0]
    for earlier, later in zip(versions, versions[1:], strict=False):
        assert earlier[1] == later[0]
