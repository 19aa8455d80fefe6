"""The Spark engine's lakehouse layout and its publish (lib/lakehouse.py), without Spark."""

import os

import duckdb
import pytest

from dagster_project.lib import lakehouse as lh


def write_mart(root, mart: str, value: int) -> None:
    folder = root / lh.MARTS / mart
    folder.mkdir(parents=True)
    duckdb.sql(f"copy (select {value} as v) to '{folder}/part-0.parquet' (format parquet)")


def test_publish_replaces_the_marts_folder_and_views_read_it(tmp_path):
    lh.start_build_folder(tmp_path)
    write_mart(lh.build_folder(tmp_path), "fct_a", 1)
    assert lh.publish_marts(tmp_path) == ["fct_a"]
    lh.start_build_folder(tmp_path)
    write_mart(lh.build_folder(tmp_path), "fct_a", 2)
    write_mart(lh.build_folder(tmp_path), "fct_b", 3)
    assert lh.publish_marts(tmp_path) == ["fct_a", "fct_b"]
    assert not (tmp_path / f".{lh.MARTS}.previous").exists()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        lh.create_mart_views(con, tmp_path, ["fct_a", "fct_b"])
        assert con.sql(
            "select v from marts.fct_a union all select v from marts.fct_b"
        ).fetchall() == [(2,), (3,)]


def test_a_failed_publish_leaves_the_published_marts(tmp_path, monkeypatch):
    lh.start_build_folder(tmp_path)
    write_mart(lh.build_folder(tmp_path), "fct_a", 1)
    lh.publish_marts(tmp_path)
    lh.start_build_folder(tmp_path)
    write_mart(lh.build_folder(tmp_path), "fct_a", 2)
    real_replace = os.replace

    def fail_on_the_new_marts(src, dst):
        if str(src).endswith(f"{lh.BUILD_FOLDER}/{lh.MARTS}"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(lh.os, "replace", fail_on_the_new_marts)
    with pytest.raises(OSError):
        lh.publish_marts(tmp_path)
    rows = duckdb.sql(f"select v from '{tmp_path}/marts/fct_a/*.parquet'").fetchall()
    assert rows == [(1,)]


def test_a_build_starts_from_an_empty_work_lakehouse(tmp_path):
    root = lh.start_build_folder(tmp_path)
    (root / "staging" / "stale").mkdir()
    root = lh.start_build_folder(tmp_path)
    assert sorted(p.name for p in root.iterdir()) == sorted(lh.SCHEMAS)
    assert lh.written_tables(root, "staging") == []
    lh.discard_build_folder(tmp_path)
    assert not root.exists()


def test_raw_tables_are_exported_as_parquet(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw; create table raw.account_versions as select 1 as id")
        con.execute("create view raw.account as select * from raw.account_versions")
    root = lh.start_build_folder(tmp_path)
    assert lh.export_raw_tables(warehouse, root) == ["raw.account_versions"]
    assert lh.written_tables(root, "raw") == ["raw.account_versions"]
    rows = duckdb.sql(f"select id from '{root}/raw/account_versions/*.parquet'").fetchall()
    assert rows == [(1,)]
