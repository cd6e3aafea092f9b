"""The CLI shows the job's stages (读取 / 筛查 / 出图 / 报告) as rich bars on a terminal, and nothing elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from spatial.cli.progress import stage_bars
from spatial.job import STAGES


def _run(terminal: bool, *, report: bool = True) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=terminal, width=100, color_system=None)
    with stage_bars(STAGES, console=console, min_seconds=0.0) as on_stage:
        on_stage("read", 0.0)
        on_stage("read", 1.0)
        on_stage("screen", 0.5)
        on_stage("draw", 0.25)  # screen never said 1.0: shown done once drawing starts
        if report:
            on_stage("report", 1.0)
    return buf.getvalue()


def _last(out: str, label: str) -> str:
    return out.rsplit(label, 1)[1].split("\n", 1)[0]


def test_stage_bars_on_a_terminal() -> None:
    out = _run(True)
    for label in STAGES.values():
        assert label in out
    assert all("100%" in _last(out, label) for label in STAGES.values())  # a later stage closes the earlier ones
    out = _run(True, report=False)
    assert "报告" not in out and "100%" in _last(out, "筛查") and "25%" in _last(out, "出图")


def test_stage_bars_quiet_off_a_terminal() -> None:
    assert _run(False) == ""
