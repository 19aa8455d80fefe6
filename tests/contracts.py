"""Empty marts with the columns and types of their dbt contracts (dbt_project/models/marts),
for tests that need a warehouse's shape without a build."""

from pathlib import Path

import duckdb
import yaml

MARTS_FOLDER = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts"


def contract_columns() -> dict[str, list[tuple[str, str]]]:
    """Per mart: its (column, data type) pairs, in the contract's order."""
    marts = {}
    for path in sorted(MARTS_FOLDER.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            marts[model["name"]] = [(c["name"], c["data_type"]) for c in model["columns"]]
    return marts


def create_empty_marts(con: duckdb.DuckDBPyConnection, names) -> None:
    """Create marts.<name> for each of `names`, empty, as its contract declares it."""
    contracts = contract_columns()
    con.execute("create schema if not exists marts")
    for name in sorted(names):
        columns = ", ".join(f'"{column}" {data_type}' for column, data_type in contracts[name])
        con.execute(f"create table marts.{name} ({columns})")
