"""dbt unit tests (SPEC's worked examples and every rule's fixtures), run once per CI run.

The production build leaves them out (they check SQL logic, not data); here they run
against a copy of the demo warehouse, which gives them the relations they introspect.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.dbt_project import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).parent / "dbt")


def test_every_dbt_unit_test_passes(demo_build, tmp_path):
    work = tmp_path / "unit.duckdb"
    shutil.copyfile(demo_build.warehouse, work)
    result = subprocess.run(
        [DBT, "test", "--select", "test_type:unit", "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "RECURWISE_WORK_DB": str(work)},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    summary = next(line for line in result.stdout.splitlines() if "Done. PASS=" in line)
    passed = int(summary.split("PASS=")[1].split()[0])
    assert passed >= 66, summary  # the worked examples and rule fixtures, none skipped
    assert "ERROR=0" in summary and "SKIP=0" in summary
