"""Counting the CPU of every process a benchmark starts, Chromium's included.

Chromium forks its renderer and GPU processes off its zygote: when they exit
they are not the benchmark's children, so ``RUSAGE_CHILDREN`` never sees their
CPU.  A benchmark that makes itself a *child subreaper* (Linux ``prctl``)
inherits those orphans; reaping them adds their CPU to ``RUSAGE_CHILDREN``.
Shared by ``bench_report.py`` and ``bench_products.py``.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["subreaper", "reap"]


def subreaper() -> bool:
    """Make orphaned descendants (Chromium's zygote children) this process's children.

    Returns
    -------
    bool
        True when the kernel accepted it (Linux only).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap(wait: bool = False) -> None:
    """Reap every exited orphan handed to this process (their CPU joins ``RUSAGE_CHILDREN``).

    Parameters
    ----------
    wait : bool, default False
        Also wait for descendants still running (after a command has returned,
        its browser processes may still be shutting down).
    """
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if not wait:
                return
            time.sleep(0.05)
