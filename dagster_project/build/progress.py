"""What a person sees while a build runs: one line per finished step, a spinner on the
running one, and in words what failed or warned (from the run's Dagster events)."""

import time

from rich.console import Console

from dagster_project.lib.outputs import console_text


class Progress:
    """Prints one line per finished step and keeps the spinner on the running one."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status = None
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.failures: list[str] = []
        # Failed blocking checks per step: the step failure names them but not why.
        self.failed_checks: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.models_done = 0
        self.refusal: str | None = None  # why the run did not start (the build lock)
        self.report_written = False
        from dagster_project.defs.report import REPORT_KEY  # with Dagster, when a build runs

        self.report_key = REPORT_KEY

    def on_event(self, record) -> None:
        """The run's event listener: each kind of event to its handler."""
        event = record.dagster_event
        if event is None:
            return
        handler = self._HANDLERS.get(event.event_type_value)
        if handler is not None:
            handler(self, event, event.step_key or "")

    def _step_started(self, event, step: str) -> None:
        self.started[step] = time.monotonic()
        if self.status is not None:
            self.status.update(f"Running {console_text(step)}")

    def _asset_materialized(self, event, step: str) -> None:
        if event.asset_key == self.report_key:
            self.report_written = True
        elif "dbt_models" in step:
            self.models_done += 1
            if self.status is not None:
                key = event.asset_key.to_user_string() if event.asset_key else ""
                self.status.update(f"dbt: {self.models_done} models built ({console_text(key)})")

    def _step_succeeded(self, event, step: str) -> None:
        seconds = time.monotonic() - self.started.get(step, time.monotonic())
        self.seconds[step] = seconds
        self.console.print(f"[green]✓[/] {console_text(step)} [dim]({seconds:.1f}s)[/]")

    def _check_evaluated(self, event, step: str) -> None:
        evaluation = event.asset_check_evaluation_data
        if evaluation.passed:
            return
        message = (
            f"check {evaluation.check_name} of {evaluation.asset_key.to_user_string()} "
            f"failed: {evaluation.description or 'no description'}"
        )
        # Dagster may deliver an evaluation to the listener twice (seen once in a demo
        # build): a check is reported once.
        if evaluation.severity.value == "ERROR":
            failed = self.failed_checks.setdefault(step, [])
            if message not in failed:
                failed.append(message)
        elif message not in self.warnings:
            self.warnings.append(message)

    def _resource_init_failed(self, event, step: str) -> None:
        # The build lock, a run of part of the warehouse and the work copy (a full disk, a
        # work file held by another process) fail here, before any step.
        error = _innermost_error(event.engine_event_data)
        message = error.message.strip() if error is not None else "failed"
        if error is not None and error.cls_name in ("BuildLockedError", "PartialRunError"):
            # "dagster_project.lib.warehouse.BuildLockedError: another build ...": the words.
            self.refusal = message.split(f"{error.cls_name}: ", 1)[-1]
        else:
            self.failures.append(f"setting up the build: {message}")

    def _step_failed(self, event, step: str) -> None:
        self.console.print(f"[red]✗[/] {console_text(step)}")
        if step in self.failed_checks:
            self.failures.extend(self.failed_checks.pop(step))
        else:
            self.failures.append(f"{step}: {_failure_message(event)}")

    _HANDLERS = {
        "STEP_START": _step_started,
        "ASSET_MATERIALIZATION": _asset_materialized,
        "STEP_SUCCESS": _step_succeeded,
        "ASSET_CHECK_EVALUATION": _check_evaluated,
        "RESOURCE_INIT_FAILURE": _resource_init_failed,
        "STEP_FAILURE": _step_failed,
    }


def _failure_message(event) -> str:
    """A step failure in words: the description the step gave, or its innermost error."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return _innermost(data)


def _innermost_error(data):
    """The innermost error of a failure event's data (the real cause), or None."""
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error


def _innermost(data) -> str:
    """The message of the innermost error of a failure event's data."""
    error = _innermost_error(data)
    return error.message.strip() if error is not None else "failed"
