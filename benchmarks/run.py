"""Benchmark: the whole build and each stage at several sizes, against a bare-DuckDB floor.

For each size: generate synthetic snapshots (cached in benchmarks/.cache), run the real
build in a child process (the same `run_build` the CLI uses) while sampling the RSS of the
whole process tree, then read per-step wall times from the Dagster events and per-model
times from dbt's run_results.json. The same raw tables then go through the core SQL of
schedules and MRR run directly in DuckDB (benchmarks/lower_bound.sql: no dbt, no Dagster)
as the lower bound. Results: benchmarks/results/<date>.json and a table in
benchmarks/README.md.

    python benchmarks/run.py                 # 10k, 100k and 1M accounts
    python benchmarks/run.py --quick         # 2k accounts, for CI-sized checks
    python benchmarks/run.py --engine spark --sizes 100000   # the Spark engine (SPEC 8)

`--engine spark` runs the same build on a local Spark session into a lakehouse folder and
writes its own table (benchmarks/README.md, "Spark engine"), beside the DuckDB figures of
the same size: no lower bound there (the floor is DuckDB's), and the lakehouse's Parquet
marts in place of the warehouse file.
"""

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
DAYS = 2
SEED = 7

# dbt models whose time is "schedules and MRR", the stage the lower bound also computes.
CORE_MODELS = (
    "int_fx_opportunity_rates",
    "int_line_items_priced",
    "int_schedules_explicit",
    "int_schedules_planned",
    "fct_schedules",
    "fct_line_items",
    "fct_opportunities",
)


def generate_cached(accounts: int) -> tuple[Path, float]:
    """Snapshots for `accounts`, generated once and reused, and the seconds generating
    them took (kept in the cache's marker file)."""
    from synthetic_crm import generate

    landing = CACHE / f"landing-{accounts}-{DAYS}d-s{SEED}"
    marker = landing / ".complete"
    if marker.exists():
        return landing, float(marker.read_text() or 0)
    shutil.rmtree(landing, ignore_errors=True)
    started = time.monotonic()
    generate(accounts, DAYS, SEED, landing)
    seconds = time.monotonic() - started
    marker.write_text(f"{seconds:.2f}")
    return landing, seconds


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1]) * 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _build_child(landing: str, warehouse: str, out: str, lakehouse: str | None) -> None:
    """Runs in the child process: the real build, with per-step timings recorded."""
    from rich.console import Console

    from dagster_project.build.environment import SparkOptions
    from dagster_project.build.run import run_build

    spark = SparkOptions(Path(lakehouse)) if lakehouse else None
    begin = time.monotonic()
    summary = run_build(Path(landing), Path(warehouse), console=Console(quiet=True), spark=spark)
    Path(out).write_text(
        json.dumps(
            {
                "build_seconds": time.monotonic() - begin,
                "steps": summary.step_seconds,
                "marts": dict(summary.marts),
                "loads": {name: [loaded, rejected] for name, loaded, rejected in summary.loads},
            }
        )
    )


def run_build_measured(landing: Path, warehouse: Path, lakehouse: Path | None = None) -> dict:
    """The build in a child process; wall time and peak RSS of the whole process tree (on
    Spark: the JVMs of the build process and of dbt included)."""
    out = warehouse.with_suffix(".bench.json")
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_build_child,
        args=(str(landing), str(warehouse), str(out), str(lakehouse) if lakehouse else None),
    )
    started = time.monotonic()
    child.start()
    peak = 0
    while child.is_alive():
        peak = max(peak, _tree_rss_bytes(child.pid))
        time.sleep(0.2)
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"build of {landing} failed (exit {child.exitcode})")
    result = json.loads(out.read_text())
    result["wall_seconds"] = time.monotonic() - started
    result["peak_rss_bytes"] = peak
    return result


def dbt_model_seconds(warehouse: Path) -> dict[str, float]:
    """Per-model execution time from the run_results.json of this build's dbt invocations."""
    seconds: dict[str, float] = {}
    for path in warehouse.with_name(warehouse.name + ".dbt").glob("*/run_results.json"):
        for result in json.loads(path.read_text())["results"]:
            unique_id = result["unique_id"]
            if unique_id.startswith(("model.", "seed.")):
                seconds[unique_id.split(".")[-1]] = result["execution_time"]
    return seconds


def lower_bound_seconds(warehouse: Path) -> tuple[float, int]:
    """The core SQL of schedules and MRR straight in DuckDB over the same raw tables."""
    sql = (HERE / "lower_bound.sql").read_text()
    work = warehouse.with_name("lower_bound.duckdb")
    shutil.copyfile(warehouse, work)
    with duckdb.connect(str(work)) as con:
        con.execute("set enable_progress_bar = false")
        started = time.monotonic()
        con.execute(sql)
        elapsed = time.monotonic() - started
        rows = con.execute("select count(*) from bench.schedules").fetchone()[0]
    work.unlink()
    return elapsed, rows


def raw_storage(warehouse: Path) -> tuple[int, int]:
    """Rows of every snapshot together, and the version rows raw actually stores."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        shown = con.execute("select sum(rows_loaded) from raw._loads").fetchone()[0]
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name like '%\\_versions' escape '\\'"
            ).fetchall()
        ]
        stored = sum(con.execute(f'select count(*) from raw."{t}"').fetchone()[0] for t in tables)
    return int(shown), stored


def measure(accounts: int, scratch: Path) -> dict:
    landing, generate_seconds = generate_cached(accounts)
    warehouse = scratch / f"warehouse-{accounts}.duckdb"
    # A full build from nothing: an earlier run's warehouse would skip every file.
    for leftover in scratch.glob(f"{warehouse.name}*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    build = run_build_measured(landing, warehouse)
    models = dbt_model_seconds(warehouse)
    floor_seconds, floor_rows = lower_bound_seconds(warehouse)
    core_seconds = sum(models.get(name, 0.0) for name in CORE_MODELS)
    raw_rows_shown, raw_rows_stored = raw_storage(warehouse)
    return {
        "accounts": accounts,
        "days": DAYS,
        "generate_seconds": round(generate_seconds, 2),
        "landing_bytes": sum(p.stat().st_size for p in landing.rglob("*.csv")),
        "build_wall_seconds": round(build["wall_seconds"], 2),
        "peak_rss_bytes": build["peak_rss_bytes"],
        "steps_seconds": {k: round(v, 2) for k, v in sorted(build["steps"].items())},
        "dbt_model_seconds": {k: round(v, 2) for k, v in sorted(models.items())},
        "core_seconds": round(core_seconds, 2),
        "lower_bound_seconds": round(floor_seconds, 2),
        "lower_bound_schedule_rows": floor_rows,
        "core_vs_lower_bound": round(core_seconds / floor_seconds, 2) if floor_seconds else None,
        "mart_rows": build["marts"],
        "rows_loaded": build["loads"],
        "raw_rows_all_snapshots": raw_rows_shown,
        "raw_version_rows_stored": raw_rows_stored,
        "warehouse_bytes": warehouse.stat().st_size,
    }


def measure_spark(accounts: int, scratch: Path) -> dict:
    """The same build on the Spark engine (local session) into a fresh lakehouse."""
    from dagster_project.lib.lakehouse import local_driver_memory

    landing, generate_seconds = generate_cached(accounts)
    lakehouse = scratch / f"lakehouse-{accounts}"
    shutil.rmtree(lakehouse, ignore_errors=True)
    warehouse = lakehouse / "warehouse.duckdb"
    build = run_build_measured(landing, warehouse, lakehouse)
    marts = lakehouse / "marts"
    return {
        "accounts": accounts,
        "engine": "spark",
        "driver_memory": local_driver_memory(),
        "days": DAYS,
        "generate_seconds": round(generate_seconds, 2),
        "build_wall_seconds": round(build["wall_seconds"], 2),
        "peak_rss_bytes": build["peak_rss_bytes"],
        "steps_seconds": {k: round(v, 2) for k, v in sorted(build["steps"].items())},
        "dbt_model_seconds": {
            k: round(v, 2) for k, v in sorted(dbt_model_seconds(warehouse).items())
        },
        "mart_rows": build["marts"],
        "rows_loaded": build["loads"],
        "marts_bytes": sum(p.stat().st_size for p in marts.rglob("*.parquet")),
    }


# A build's stages, as the engines compare: step names start with these.
STAGES = {
    "ingest": ("raw__",),
    "raw checks": ("check_raw__",),
    "dbt before the builder": ("crm_dbt_models",),
    "subscription builder": ("subscription_build",),
    "dbt after the builder": ("subscription_dbt_models",),
    "mart checks": ("check_marts__", "check_staging__", "check_intermediate__"),
    "publish": ("published_warehouse",),
    "report": ("finance_report",),
}


def stage_seconds(steps: dict[str, float]) -> dict[str, float]:
    totals = dict.fromkeys(STAGES, 0.0)
    for step, seconds in steps.items():
        for stage, prefixes in STAGES.items():
            if step.startswith(prefixes):
                totals[stage] += seconds
                break
    return {stage: round(seconds, 1) for stage, seconds in totals.items()}


def spark_markdown(results: list[dict], duckdb_results: list[dict], info: dict) -> str:
    """The Spark engine's figures beside the DuckDB build of the same size."""
    gib = 1024**3
    by_size = {r["accounts"]: r for r in duckdb_results}
    # Results before RECURWISE_SPARK_DRIVER_MEMORY existed ran with its default.
    drivers = ", ".join(sorted({r.get("driver_memory", "2g") for r in results}))
    lines = [
        f"Measured {date.today().isoformat()} on {info['cpus']} cores, "
        f"{info['memory_bytes'] / gib:.0f} GiB, local Spark (local[2], {drivers} driver), "
        f"{DAYS} daily snapshots; DuckDB from the table above.",
        "",
        "| accounts | engine | build s | peak RSS GiB | "
        + " | ".join(f"{stage} s" for stage in STAGES)
        + " |",
        "|---:|---|---:|---:|" + "---:|" * len(STAGES),
    ]
    for r in results:
        for engine, row in (("duckdb", by_size.get(r["accounts"])), ("spark", r)):
            if row is None:
                continue
            stages = stage_seconds(row["steps_seconds"])
            lines.append(
                f"| {row['accounts']:,} | {engine} | {row['build_wall_seconds']} | "
                f"{row['peak_rss_bytes'] / gib:.2f} | "
                + " | ".join(str(stages[stage]) for stage in STAGES)
                + " |"
            )
    return "\n".join(lines) + "\n"


def machine() -> dict:
    memory = next(
        (
            int(line.split()[1]) * 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }


def markdown(results: list[dict], info: dict) -> str:
    gib = 1024**3
    lines = [
        f"Measured {date.today().isoformat()} on {info['cpus']} cores, "
        f"{info['memory_bytes'] / gib:.0f} GiB, DuckDB {info['duckdb']}, {DAYS} daily snapshots.",
        "",
        "| accounts | generate s | build s | peak RSS GiB | schedules+MRR dbt s | "
        "bare DuckDB s | ratio | fct_schedules rows | raw rows (all snapshots) | "
        "raw rows stored | warehouse MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['accounts']:,} | {r['generate_seconds']} | {r['build_wall_seconds']} | "
            f"{r['peak_rss_bytes'] / gib:.2f} | {r['core_seconds']} | {r['lower_bound_seconds']} | "
            f"{r['core_vs_lower_bound']} | {r['mart_rows'].get('fct_schedules', 0):,} | "
            f"{r['raw_rows_all_snapshots']:,} | {r['raw_version_rows_stored']:,} | "
            f"{r['warehouse_bytes'] / 1024**2:.0f} |"
        )
    lines += [
        "",
        "Per step (s):",
        "",
        "| step | " + " | ".join(f"{r['accounts']:,}" for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    steps = sorted({s for r in results for s in r["steps_seconds"]})
    for step in steps:
        lines.append(
            f"| {step} | "
            + " | ".join(str(r["steps_seconds"].get(step, "")) for r in results)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="one small size (2k accounts)")
    parser.add_argument("--scratch", type=Path, default=CACHE / "scratch")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    args = parser.parse_args()
    sizes = [2_000] if args.quick else args.sizes
    args.scratch.mkdir(parents=True, exist_ok=True)
    info = machine()
    on_spark = args.engine == "spark"
    results = []
    for accounts in sizes:
        print(f"== {accounts:,} accounts ({args.engine})", file=sys.stderr, flush=True)
        run = measure_spark if on_spark else measure
        results.append(run(accounts, args.scratch))
        print(json.dumps(results[-1], indent=1), file=sys.stderr, flush=True)
        # Written after every size: a run stopped at a larger size keeps the smaller ones.
        record(results, info, on_spark, args.quick)


def record(results: list[dict], info: dict, on_spark: bool, quick: bool) -> None:
    """The results so far: benchmarks/results/<date>[-spark].json and the README table."""
    RESULTS.mkdir(exist_ok=True)
    suffix = f"{'-spark' if on_spark else ''}{'-quick' if quick else ''}"
    path = RESULTS / f"{date.today().isoformat()}{suffix}.json"
    # Sizes measured earlier the same day and not in this run stay (a 1M run alone keeps
    # an earlier 100k): each result names its size, the table shows them all.
    sizes = {result["accounts"] for result in results}
    earlier = json.loads(path.read_text())["results"] if path.exists() else []
    results = sorted(
        [r for r in earlier if r["accounts"] not in sizes] + results, key=lambda r: r["accounts"]
    )
    path.write_text(json.dumps({"machine": info, "results": results}, indent=1))
    if on_spark:
        table, marker = spark_markdown(results, latest_duckdb_results(), info), "spark-results"
    else:
        table, marker = markdown(results, info), "results"
    print(table)
    if not quick:
        readme = HERE / "README.md"
        text = readme.read_text()
        start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        readme.write_text(f"{before}{start}\n{table}{end}{after}")


def latest_duckdb_results() -> list[dict]:
    """The newest full DuckDB run's results (benchmarks/results/<date>.json)."""
    runs = sorted(
        path for path in RESULTS.glob("*.json") if not path.stem.endswith(("-quick", "-spark"))
    )
    return json.loads(runs[-1].read_text())["results"] if runs else []


if __name__ == "__main__":
    main()
