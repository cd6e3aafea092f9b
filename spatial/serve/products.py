"""The state of a web job's output files: the verdicts come first, the files after.

A job is ``done`` as soon as its verdicts exist; its output set (tables, map,
report, PDF, 附图) is written afterwards by the same worker task.  The state
lives beside the files, in the job folder, so every server process sees it
without a database column:

* ``.files-pending`` — the set is being written (生成中); it holds the
  writer's stage (出图 / 报告) and the fraction done, as JSON;
* ``.files-failed`` — writing failed (the file holds the reason);
* neither — the set is in ``out/`` (可下载).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["FILE_STATE_ZH", "mark_pending", "mark_progress", "mark_ready", "mark_failed", "files_state", "files_progress", "failure"]

#: The page's words for each state.
FILE_STATE_ZH = {"pending": "生成中", "ready": "可下载", "failed": "生成失败"}

_PENDING = ".files-pending"
_FAILED = ".files-failed"


def mark_pending(folder: Path) -> None:
    """Say that the job's files are being written."""
    (folder / _FAILED).unlink(missing_ok=True)
    (folder / _PENDING).write_text("", encoding="utf-8")


def mark_progress(folder: Path, stage: str, fraction: float) -> None:
    """Record how far the writer is (``stage`` a key of ``spatial.job.STAGES``, ``fraction`` 0-1) while the set is pending."""
    pending = folder / _PENDING
    if not pending.exists():  # finished or failed meanwhile: never bring the marker back
        return
    part = folder / f"{_PENDING}.part"
    part.write_text(json.dumps({"stage": stage, "fraction": round(float(fraction), 3)}), encoding="utf-8")
    os.replace(part, pending)  # a reader never sees half a record


def files_progress(folder: Path) -> tuple[str, float] | None:
    """Return the pending writer's (stage, fraction), or None (not pending, or no stage reported yet)."""
    try:
        doc = json.loads((folder / _PENDING).read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or "stage" not in doc:
        return None
    return str(doc["stage"]), float(doc.get("fraction", 0.0))


def mark_ready(folder: Path) -> None:
    """Say that the job's files are all in ``out/``."""
    (folder / _PENDING).unlink(missing_ok=True)


def mark_failed(folder: Path, reason: str) -> None:
    """Say that writing the files failed, and why (Chinese first, then English)."""
    (folder / _FAILED).write_text(reason, encoding="utf-8")
    (folder / _PENDING).unlink(missing_ok=True)


def files_state(folder: Path) -> str:
    """Return ``pending``, ``failed`` or ``ready`` for a job folder."""
    if (folder / _PENDING).exists():
        return "pending"
    if (folder / _FAILED).exists():
        return "failed"
    return "ready"


def failure(folder: Path) -> str:
    """Return why writing the files failed ('' when it did not)."""
    p = folder / _FAILED
    return p.read_text(encoding="utf-8") if p.exists() else ""
