"""`recurwise export --all --format parquet`: every mart as typed Parquet plus a manifest,
read back with DuckDB and compared with the marts row for row (EXCEPT ALL both ways)."""

import json
from datetime import datetime

import duckdb
import pytest

from dagster_project import cli
from dagster_project.lib.export import MANIFEST, ExportError, export_all_parquet


@pytest.fixture(scope="module")
def exported(demo_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("lakehouse") / "marts"
    cli.main(
        ["export", "--all", "--format", "parquet", "--out", str(out),
         "--warehouse", str(demo_build.warehouse)]
    )  # fmt: skip
    return out, json.loads((out / MANIFEST).read_text())


def test_every_mart_reads_back_equal_with_its_types(demo_build, exported):
    out, manifest = exported
    marts = dict(demo_build.marts)
    assert [entry["mart"] for entry in manifest["marts"]] == sorted(marts)
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        for entry in manifest["marts"]:
            mart, read = f'marts."{entry["mart"]}"', f"read_parquet('{out / entry['file']}')"
            assert (
                entry["rows"]
                == marts[entry["mart"]]
                == con.execute(f"select count(*) from {read}").fetchone()[0]
            )
            for a, b in ((mart, read), (read, mart)):
                extra = con.execute(f"select count(*) from (from {a} except all from {b})")
                assert extra.fetchone()[0] == 0, f"{a} has rows that {b} has not"
            # Typed: the file's columns have the mart's names and types (money as DECIMAL).
            file_types = [
                {"name": name, "type": data_type}
                for name, data_type, *_ in con.execute(f"describe select * from {read}").fetchall()
            ]
            mart_types = [
                {"name": name, "type": data_type}
                for name, data_type, *_ in con.execute(f"describe {mart}").fetchall()
            ]
            assert file_types == mart_types == entry["columns"], entry["mart"]


def test_the_manifest_says_when_and_as_of_what(demo_db, exported):
    _, manifest = exported
    latest = demo_db.execute("select max(snapshot_date) from raw.snapshots").fetchone()[0]
    assert manifest["as_of"] == latest.isoformat()
    assert datetime.fromisoformat(manifest["built_at"]).tzinfo is not None
    mrr = next(e for e in manifest["marts"] if e["mart"] == "fct_mrr_monthly")
    assert {"name": "mrr", "type": "DECIMAL(18,2)"} in mrr["columns"]
    assert not list(exported[0].glob("*.partial"))


def test_export_all_mistakes_are_clear_errors(demo_build, tmp_path, capsys):
    with pytest.raises(ExportError, match="does not exist; run recurwise demo"):
        export_all_parquet(tmp_path / "nope.duckdb", tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file; --all writes a folder"):
        export_all_parquet(demo_build.warehouse, tmp_path / "file")
    for argv, message in (
        (["--all", "--out", str(tmp_path / "o")], "--all writes typed Parquet files"),
        (["fct_mrr_monthly", "--all", "--format", "parquet", "--out", str(tmp_path / "o")],
         "give a mart name or --all, not both"),
        (["--out", str(tmp_path / "o.csv")], "name the mart to export"),
    ):  # fmt: skip
        with pytest.raises(SystemExit) as caught:
            cli.main(["export", *argv, "--warehouse", str(demo_build.warehouse)])
        assert caught.value.code == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_manifest_takes_as_of_and_built_at_from_build_info(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.build_info as select date '2026-05-31' as as_of_date, "
            "timestamp '2026-06-01 06:00:00' as built_at"
        )
        con.execute("create table marts.fct_money as select 12.5::decimal(18, 2) as mrr")
    manifest = export_all_parquet(warehouse, tmp_path / "out")
    assert (manifest["as_of"], manifest["built_at"]) == ("2026-05-31", "2026-06-01T06:00:00+00:00")
    assert manifest["as_of_source"] == "build_info"
    money = next(e for e in manifest["marts"] if e["mart"] == "fct_money")
    assert money == {
        "mart": "fct_money",
        "file": "fct_money.parquet",
        "rows": 1,
        "columns": [{"name": "mrr", "type": "DECIMAL(18,2)"}],
    }
