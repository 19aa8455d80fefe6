"""The Great Expectations engine: one ephemeral context, one whole-frame batch definition,
and `validate_frame`, which judges a pandas or polars frame against a suite.

GX 1.x validates DataFrames (its SQL datasource does not work on DuckDB, STACK.md), so the
rules hand it bounded frames their SQL has reduced. great_expectations is imported on first
use (5-8 s); `preload` lets a background thread pay that while a build's first steps run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dagster_project.lib.expectations.messages import describe_failure

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite

# Rows GX validates per rule: enough for every example a person reads, bounded at any scale.
FRAME_ROWS = 2_000


@dataclass(frozen=True)
class Outcome:
    """The verdict of one suite on one frame, with a summary a person can act on."""

    suite_name: str
    success: bool
    rows_validated: int
    expectations: int
    failures: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        """What passed, or each failed expectation with its failing rows."""
        if self.success:
            return f"{self.expectations} expectations passed on {self.rows_validated} rows"
        return "; ".join(self.failures)


def gx_modules():
    """great_expectations and its expectations module, imported once (it costs seconds)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


# The engine may be prepared by a background thread (preload) while a check asks for it.
_engine_lock = threading.RLock()
_engine: dict[str, Any] = {}


def context():
    """One ephemeral GX context per process: nothing is written to disk."""
    with _engine_lock:
        if "context" not in _engine:
            gx, _ = gx_modules()
            from great_expectations.data_context.types.base import ProgressBarsConfig

            made = gx.get_context(mode="ephemeral")
            # Progress bars would write to the build's console for every validation.
            made.variables.progress_bars = ProgressBarsConfig(globally=False)
            _engine["context"] = made
        return _engine["context"]


def _batch_definition():
    """A whole-dataframe batch definition of a pandas datasource, made once per process."""
    with _engine_lock:
        if "batch_definition" not in _engine:
            _engine["batch_definition"] = (
                context()
                .data_sources.add_pandas("recurwise_frames")
                .add_dataframe_asset("frame")
                .add_batch_definition_whole_dataframe("whole_frame")
            )
        return _engine["batch_definition"]


def preload() -> None:
    """Import Great Expectations and set up its context now (5-8 s), e.g. in a thread."""
    _batch_definition()


def _to_pandas(frame: Any) -> pd.DataFrame:
    # polars frames (and anything else with to_pandas) go in as pandas (STACK.md).
    return frame if type(frame).__module__.startswith("pandas") else frame.to_pandas()


def validate_frame(
    frame: Any,
    suite: ExpectationSuite,
    index_columns: Sequence[str] = (),
    frame_limit: int | None = None,
) -> Outcome:
    """Validate a pandas or polars frame against `suite`.

    Failing rows are named by `index_columns` in the summary; `frame_limit` is the row
    bound the frame was cut at, if any (a full frame then reports "at least n" failures).
    """
    started = time.monotonic()
    data = _to_pandas(frame)
    index_columns = [c for c in index_columns if c in data.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(suite, result_format=result_format)
    truncated = frame_limit is not None and len(data) >= frame_limit
    failures = tuple(
        describe_failure(r, data, index_columns, truncated) for r in result.results if not r.success
    )
    return Outcome(
        suite_name=suite.name,
        success=bool(result.success),
        rows_validated=len(data),
        expectations=len(result.results),
        failures=failures,
        seconds=round(time.monotonic() - started, 3),
    )
