"""The `recurwise` command: parses its flags, then calls the build job or a helper.

Expected errors (a wrong path, an empty landing folder, a bad file, a failed check, a
build already running) end in one clear message and exit code 1, never a traceback.
"""

import argparse
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dagster_project.build.environment import SparkOptions
from dagster_project.build.errors import BuildError, UsageError
from dagster_project.build.run import (
    DEFAULT_WAREHOUSE,
    DEMO_LANDING,
    REPO_ROOT,
    lakehouse_warehouse,
    run_build,
)
from dagster_project.build.summary import BuildSummary
from dagster_project.lib import settings as settings_module
from dagster_project.lib.build_filter import DEFAULT_BUILD_FILTER
from dagster_project.lib.child_process import DBT_EXECUTABLE, PARENT_PID_ENV
from dagster_project.lib.export import FORMATS, ExportError, export_all_parquet, export_mart
from dagster_project.lib.ingest.errors import FileLevelError
from dagster_project.lib.lakehouse import LOCAL_MASTER, published_marts_of
from dagster_project.lib.outputs import (
    OutputPathError,
    check_output_path,
    console_text,
    describe_os_error,
    landing_folders,
    write_atomically,
)
from dagster_project.lib.renewals_export import export_renewals
from dagster_project.lib.report import ReportError, write_report
from dagster_project.lib.settings import SettingError, overridable_settings
from dagster_project.lib.warehouse import BuildLockedError

# soft_wrap: an error message stays one line in logs and pipes, however narrow the terminal.
# emoji=False: CRM text such as "Acme :fire: Corp" prints as it is. Every value from a
# user, a path or the CRM goes through console_text(): "Acme [/x] Corp" is text, not
# markup, and a terminal escape sequence in CRM text prints as \x1b[31m.
console = Console(stderr=True, soft_wrap=True, emoji=False)


class DocsError(Exception):
    """dbt could not write the documentation site; the message has the end of its output."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command's flags: one subcommand per entry of COMMANDS."""
    parser = argparse.ArgumentParser(
        prog="recurwise",
        description="Subscription revenue warehouse: CRM snapshots in, DuckDB marts out.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_build_commands(sub)
    _add_generate_command(sub)
    _add_ui_command(sub)
    _add_warehouse_commands(sub)
    return parser


def _add_build_commands(sub) -> None:
    """`build` and `demo`: the flags of a build."""
    build = sub.add_parser("build", help="ingest every snapshot, build, check and publish")
    build.add_argument(
        "--landing", type=Path, required=True, help="folder of snapshot folders named YYYY-MM-DD"
    )
    build.add_argument("--warehouse", type=Path, help="the DuckDB file to publish")
    build.add_argument("--as-of", type=_date, help="as-of date (default: latest snapshot)")
    build.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where the models, the subscription builder and the mart checks run (default "
        "duckdb: into --warehouse; spark: into --lakehouse, docs/spark.md)",
    )
    build.add_argument(
        "--lakehouse",
        type=Path,
        help="with --engine spark: the folder whose marts/<mart>/ the build publishes as "
        "Parquet (and warehouse.duckdb: raw versions, views over the marts)",
    )
    build.add_argument(
        "--spark-master",
        default=LOCAL_MASTER,
        help=f"with --engine spark: {LOCAL_MASTER} (default, a local session) or "
        "sc://host:port (a cluster's Spark Connect server)",
    )
    # Read here, not at import: only a command that builds its parser needs the names.
    settings_names = ", ".join(overridable_settings())
    for command in (build, demo := sub.add_parser("demo", help="build the bundled demo snapshots")):
        command.add_argument(
            "--accept-snapshot",
            dest="accepted_snapshots",
            type=_date,
            action="append",
            default=[],
            metavar="DATE",
            help="publish this snapshot although a delivery gate stopped it (an object "
            "empty, shrunk or mostly rejected) once you know the change is real",
        )
        command.add_argument(
            "--build-filter",
            help="SQL condition over stg_crm__opportunities choosing the subscription "
            f"builder's sources (default: {DEFAULT_BUILD_FILTER})",
        )
        command.add_argument(
            "--set",
            dest="settings",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a setting of dbt_project.yml's vars, e.g. renewal_horizon_days=90 "
            f"(one of: {settings_names})",
        )

    demo.add_argument(
        "--warehouse",
        type=Path,
        default=DEFAULT_WAREHOUSE,
        help=f"the DuckDB file to publish (default {DEFAULT_WAREHOUSE})",
    )


def _add_generate_command(sub) -> None:
    """`generate`: synthetic CRM snapshots."""
    gen = sub.add_parser("generate", help="write synthetic CRM snapshots")
    gen.add_argument("--accounts", type=_positive, required=True)
    gen.add_argument("--days", type=_positive, default=3)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--end-date", type=_date, help="date of the last snapshot")
    gen.add_argument(
        "--history-days",
        type=_positive,
        help="days of CRM history before the last snapshot (default about three years; "
        "under 365 gives a company in its first year)",
    )
    gen.add_argument("--out", type=Path, required=True)


def _add_ui_command(sub) -> None:
    """`ui`: the Dagster UI and daemon over one landing folder and warehouse."""
    ui = sub.add_parser(
        "ui",
        help="serve the Dagster UI on 127.0.0.1 and run the daemon, which builds new "
        "snapshot folders of --landing into --warehouse by itself",
    )
    # Required: the daemon builds on its own, so it never guesses which folder or file.
    ui.add_argument("--landing", type=Path, required=True, help="folder of snapshot folders")
    ui.add_argument("--warehouse", type=Path, required=True, help="the DuckDB file to publish")
    ui.add_argument("--port", type=int, default=3000)


def _add_warehouse_commands(sub) -> None:
    """`docs`, `query`, `report` and `export`: what reads a built warehouse."""
    docs = sub.add_parser("docs", help="write dbt's documentation site as one static HTML file")
    docs.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    docs.add_argument("--out", type=Path, default=Path("dbt-docs.html"))

    query = sub.add_parser("query", help="run one read-only SQL query on a warehouse")
    query.add_argument("sql")
    query.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    query.add_argument(
        "--allow-files",
        action="store_true",
        help="let the query read and write files (read_csv, COPY ... TO, ATTACH); the "
        "warehouse itself stays read-only",
    )

    report = sub.add_parser("report", help="write the finance report: one HTML file of charts")
    report.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    report.add_argument("--out", type=Path, default=Path("report.html"))

    export = sub.add_parser(
        "export",
        help="write one mart to a csv, parquet or xlsx file; `renewals` writes the renewal "
        "opportunities to create in Salesforce Data Loader columns",
    )
    export.add_argument(
        "mart", nargs="?", help="a table of schema marts (e.g. fct_mrr_monthly), or renewals"
    )
    export.add_argument(
        "--all",
        action="store_true",
        help="every mart as typed Parquet into the folder --out, with a manifest.json",
    )
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)


def parse_settings(pairs: list[str]) -> dict[str, object]:
    """NAME=VALUE pairs as dbt vars, each checked against its declared type (lib/settings.py)."""
    try:
        return settings_module.parse_settings(pairs)
    except SettingError as exc:
        raise UsageError(str(exc)) from None


def print_summary(summary: BuildSummary) -> None:
    table = Table(title="Rows per CRM object (all snapshots)")
    table.add_column("object")
    table.add_column("loaded", justify="right")
    table.add_column("rejected", justify="right")
    for name, loaded, rejected in summary.loads:
        table.add_row(
            console_text(name), f"{loaded:,}", f"[red]{rejected:,}[/]" if rejected else "0"
        )
    console.print(table)
    rejected = sum(r for _, _, r in summary.loads)
    if rejected:
        console.print(
            f"[yellow]{rejected:,} rows rejected[/]: see them with "
            'recurwise query "select * from raw.rejects" '
            f"--warehouse {console_text(summary.warehouse)}"
        )
    console.print(
        f"{len(summary.snapshots)} snapshots ({summary.snapshots[0]} .. {summary.snapshots[-1]}), "
        f"{len(summary.marts)} marts: "
        + ", ".join(f"{console_text(name)} ({rows:,})" for name, rows in summary.marts)
    )
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {console_text(warning)}")
    warehouse = console_text(summary.warehouse)
    console.print(f"[bold green]Published[/] {warehouse} in {summary.seconds:.0f}s")
    if summary.report is not None:
        console.print(
            f"Finance report: {console_text(summary.report)} (open it in a browser; works offline)"
        )
    console.print(
        "Query it read-only, for example:\n"
        f'  recurwise query "select * from marts.fct_opportunities limit 5" '
        f"--warehouse {warehouse}\n"
        f"  python -c \"import duckdb; print(duckdb.connect('{warehouse}', "
        f"read_only=True).sql('from marts.fct_opportunities limit 5'))\""
    )


def cmd_generate(args: argparse.Namespace) -> None:
    from synthetic_crm import generate

    kwargs = {"end_date": args.end_date} if args.end_date else {}
    if args.history_days:
        kwargs["history_days"] = args.history_days
    with console.status("Generating") as status:
        try:
            counts = generate(
                args.accounts, args.days, args.seed, args.out, progress=status.update, **kwargs
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    console.print(
        f"Wrote {args.days} snapshots to {console_text(args.out)}: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )


# The Dagster instance of `recurwise ui`: a local UI (no "join the community" dialog over the
# page, no telemetry), and at most one run at a time of the warehouse's concurrency pool
# (defs/resources.py WAREHOUSE_POOL): the daemon queues a second build instead of starting it.
POOL_CONFIG = """\
concurrency:
  pools:
    granularity: run
    default_limit: 1
"""
INSTANCE_CONFIG = "nux:\n  enabled: false\ntelemetry:\n  enabled: false\n" + POOL_CONFIG


def cmd_ui(args: argparse.Namespace) -> None:
    """The Dagster UI and daemon (`dg dev`): the sensor and the schedule run in it."""
    from dagster_project.build.environment import configure_environment
    from dagster_project.build.manifest import prepare_dbt_manifest

    landing, warehouse = args.landing.resolve(), args.warehouse.resolve()
    if not landing.is_dir():
        raise UsageError(f"landing directory {landing} does not exist")
    if warehouse.is_dir():
        raise UsageError(f"warehouse path {warehouse} is a directory; give a file name")
    check_output_path(warehouse, landing=[landing])
    configure_environment(landing, warehouse)
    # One Dagster instance per warehouse: its runs, partitions and sensor cursor.
    home = Path(os.environ.get("DAGSTER_HOME") or warehouse.with_name(warehouse.name + ".dagster"))
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance_config = home / "dagster.yaml"
    if not instance_config.exists():
        instance_config.write_text(INSTANCE_CONFIG)
    elif "granularity: run" not in instance_config.read_text():
        console.print(
            f"warning: {instance_config} sets no run-level "
            "concurrency pool: a second build the daemon starts is refused (the build "
            "lock) instead of waiting in the queue; add\n" + POOL_CONFIG,
            markup=False,
        )
    os.environ["DAGSTER_HOME"] = str(home)
    prepare_dbt_manifest()
    dg = Path(sys.executable).parent / "dg"
    console.print(
        f"Dagster UI on http://127.0.0.1:{args.port} (Ctrl-C to stop); the daemon builds "
        f"new snapshot folders of {landing} into {warehouse} within minutes "
        f"(instance {home})",
        markup=False,
    )
    # dg takes this process's place, so Ctrl-C or a SIGTERM reaches it (and through it the
    # webserver, the daemon and the code server) directly. As if the environment were
    # activated: dg warns when the project's .venv is not the active one (it is, just not
    # activated when run as .venv/bin/recurwise).
    os.chdir(REPO_ROOT)
    os.execve(
        dg,
        [str(dg), "dev", "--host", "127.0.0.1", "--port", str(args.port)],
        {**os.environ, "VIRTUAL_ENV": sys.prefix},
    )


def cmd_report(args: argparse.Namespace) -> None:
    drawn = write_report(args.warehouse, args.out)
    charts = console_text(", ".join(drawn))
    console.print(f"Wrote {console_text(args.out)}: {len(drawn)} charts ({charts})")


def cmd_export_all(args: argparse.Namespace) -> None:
    if args.mart:
        raise UsageError(f"give a mart name or --all, not both (got {args.mart!r} and --all)")
    if args.format != "parquet":
        raise UsageError("--all writes typed Parquet files: add --format parquet")
    # No file of the folder may land on the warehouse's files or in a snapshot folder.
    check_output_path(args.out / "manifest.json", args.warehouse, _landing_of(args.warehouse))
    manifest = export_all_parquet(args.warehouse, args.out)
    rows = sum(entry["rows"] for entry in manifest["marts"])
    console.print(
        f"Wrote {len(manifest['marts'])} marts ({rows:,} rows) as Parquet to "
        f"{console_text(args.out)}, listed in {console_text(args.out / 'manifest.json')} "
        f"(as of {manifest['as_of']})"
    )


def cmd_export(args: argparse.Namespace) -> None:
    if args.all:
        cmd_export_all(args)
        return
    if not args.mart:
        raise UsageError("name the mart to export (e.g. fct_mrr_monthly), or give --all")
    if args.mart == "renewals":
        if args.format != "csv":
            raise UsageError("renewals are exported for the Data Loader: --format csv only")
        if not args.warehouse.is_file():
            raise UsageError(f"warehouse {args.warehouse} does not exist; run recurwise demo first")
        rows = export_renewals(args.warehouse, args.out)
        console.print(f"Wrote {rows:,} renewal opportunities to create to {console_text(args.out)}")
        return
    rows = export_mart(args.warehouse, args.mart, args.format, args.out)
    mart = console_text(args.mart.removeprefix("marts."))
    console.print(f"Wrote {rows:,} rows of marts.{mart} to {console_text(args.out)}")


def cmd_docs(args: argparse.Namespace) -> None:
    """`dbt docs generate --static` over a copy of the warehouse (dbt needs a writable file)."""
    import shutil
    import tempfile

    from dagster_project.dbt_project import DBT_PROJECT_DIR

    if not args.warehouse.is_file():
        raise UsageError(f"warehouse {args.warehouse} does not exist; run recurwise demo first")
    check_output_path(args.out, args.warehouse, _landing_of(args.warehouse))
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "docs.duckdb"
        shutil.copyfile(args.warehouse, work)
        result = subprocess.run(
            [str(DBT_EXECUTABLE), "docs", "generate", "--static",
             "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", scratch,
             "--log-path", scratch],
            cwd=DBT_PROJECT_DIR,
            # recurwise-dbt ends with this process (lib/child_process.py).
            env={**os.environ, "RECURWISE_WORK_DB": str(work), PARENT_PID_ENV: str(os.getpid())},
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise DocsError(f"dbt docs generate failed:\n{result.stdout[-2000:]}")
        page = Path(scratch) / "static_index.html"
        write_atomically(args.out, lambda partial: shutil.copyfile(page, partial))
    console.print(
        f"Wrote {console_text(args.out)}: dbt's docs of every model and column, one file, offline"
    )


# `recurwise query` reads the warehouse and nothing else (SPEC 6, Safety): the file opens
# read-only, DuckDB may touch no other file (no COPY TO, read_csv, ATTACH, INSTALL / LOAD)
# unless --allow-files, never fetches or loads an extension by itself, and the query
# cannot switch any of this back on (lock_configuration). A Spark build's warehouse.duckdb
# holds views over the lakehouse's Parquet marts: that folder alone may be read, and since
# DuckDB's allowed_directories admits writes there too, a statement that writes files or
# opens a database is refused before it runs.
FILE_STATEMENTS = frozenset({"COPY", "COPY_DATABASE", "EXPORT", "ATTACH", "LOAD", "EXTENSION"})


def open_for_query(warehouse: Path, allow_files: bool):
    """A read-only connection to `warehouse` with the guards above, locked."""
    import duckdb

    from dagster_project.lib.raw_store import quote_literal

    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    con = duckdb.connect(str(warehouse), read_only=True, config=config)
    marts = None if allow_files else published_marts_of(warehouse)
    if marts is not None:
        con.execute(f"set allowed_directories = [{quote_literal(str(marts) + os.sep)}]")
    if not allow_files:
        con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con, marts is not None


def refused_statement(con, sql: str) -> str | None:
    """The first statement of `sql` that writes files or opens a database, if any."""
    for statement in con.extract_statements(sql):
        if statement.type.name in FILE_STATEMENTS:
            return statement.type.name
    return None


def _landing_of(warehouse: Path) -> list[Path]:
    """The landing folders `warehouse` was built from (outputs may not go there)."""
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return landing_folders(con)
    except duckdb.Error as exc:
        raise UsageError(f"cannot open {warehouse} as a DuckDB warehouse: {exc}") from None


def cmd_query(args: argparse.Namespace) -> None:
    import duckdb

    if not args.warehouse.is_file():
        raise UsageError(f"warehouse {args.warehouse} does not exist; run recurwise demo first")
    try:
        con, lakehouse_marts = open_for_query(args.warehouse, args.allow_files)
        with con:
            if lakehouse_marts and (kind := refused_statement(con, args.sql)):
                raise UsageError(
                    f"query refused: {kind} statements write files or open databases; "
                    "recurwise query reads the warehouse only (add --allow-files to allow it)"
                )
            print(con.sql(args.sql))
    except duckdb.PermissionException as exc:
        raise UsageError(
            f"query refused: {exc}; recurwise query reads the warehouse only "
            "(add --allow-files to let it read and write other files)"
        ) from None
    except duckdb.Error as exc:
        raise UsageError(f"query failed: {exc}") from None


def cmd_build(args: argparse.Namespace) -> None:
    """Ingest, build, check and publish `--warehouse` (or `--lakehouse` on Spark) from
    `--landing`, then the summary."""
    settings = parse_settings(args.settings)
    spark, warehouse = None, args.warehouse
    if args.engine == "spark":
        if args.lakehouse is None or args.warehouse is not None:
            raise UsageError("--engine spark publishes into --lakehouse DIR (not --warehouse)")
        spark = SparkOptions(args.lakehouse, args.spark_master)
        warehouse = lakehouse_warehouse(args.lakehouse)
    elif warehouse is None or args.lakehouse is not None:
        raise UsageError("give --warehouse FILE (or --engine spark --lakehouse DIR)")
    print_summary(
        run_build(
            args.landing,
            warehouse,
            args.as_of,
            console,
            args.build_filter,
            settings,
            args.accepted_snapshots,
            spark,
        )
    )


def cmd_demo(args: argparse.Namespace) -> None:
    """`recurwise build` of the bundled demo snapshots."""
    settings = parse_settings(args.settings)
    print_summary(
        run_build(
            DEMO_LANDING,
            args.warehouse,
            None,
            console,
            args.build_filter,
            settings,
            args.accepted_snapshots,
        )
    )


# Each subcommand's handler, by the name build_parser gives it.
COMMANDS = {
    "build": cmd_build,
    "demo": cmd_demo,
    "generate": cmd_generate,
    "ui": cmd_ui,
    "query": cmd_query,
    "docs": cmd_docs,
    "report": cmd_report,
    "export": cmd_export,
}

# Errors a person can act on: one line and exit code 1, never a traceback.
EXPECTED_ERRORS = (
    BuildError,
    UsageError,
    DocsError,
    FileLevelError,
    BuildLockedError,
    ReportError,
    ExportError,
    OutputPathError,
    SettingError,
)


def main(argv: list[str] | None = None) -> None:
    """The `recurwise` command: parse the flags, run the subcommand's handler."""
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except EXPECTED_ERRORS as exc:
        console.print(f"[bold red]error:[/] {console_text(exc)}")
        raise SystemExit(1) from None
    except OSError as exc:
        # A full disk, a permission denied, a folder that is a file: one line, exit 1.
        console.print(f"[bold red]error:[/] {console_text(describe_os_error(exc))}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
