"""Threads for the geometry work: shapely releases the GIL in its vectorised calls."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["run_tasks", "run_jobs", "default_threads", "fork_is_safe"]


def run_tasks(tasks: list[tuple[Any, ...]], threads: int) -> list[Any]:
    """Run ``(function, *args)`` tasks, on a thread pool when ``threads > 1``.

    shapely releases the GIL in its vectorised calls and tree queries, so the
    geometry work of independent tasks overlaps on several cores.

    Parameters
    ----------
    tasks : list of tuple
        ``(function, *args)``.
    threads : int
        Pool size.

    Returns
    -------
    list
        Results in task order.
    """
    if threads <= 1 or len(tasks) <= 1:
        return [fn(*args) for fn, *args in tasks]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ecozone-screen") as pool:
        futures = [pool.submit(fn, *args) for fn, *args in tasks]
        return [fut.result() for fut in futures]


def run_jobs(jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``(key, function, *args)`` jobs one after another (one task, one thread).

    Parameters
    ----------
    jobs : list of tuple
        ``(key, function, *args)``.

    Returns
    -------
    list
        Results in job order.
    """
    return [fn(*args) for _, fn, *args in jobs]


def default_threads() -> int:
    """Threads per screening: ``$ECOZONE_THREADS`` or the number of usable cores (at most 8).

    Returns
    -------
    int
        Thread count (>= 1).
    """
    env = os.environ.get("ECOZONE_THREADS")
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def fork_is_safe() -> bool:
    """Return True when a fork copies no other live thread's state: the CLI, not a server's job worker.

    Only the main thread of a top-level process (not a process pool's worker: the web server's
    jobs never fork), with no other thread alive but daemon ones (e.g. a progress bar's refresh
    thread, which the child never uses; none at all from Python 3.12, where forking with threads
    is deprecated).  The report's 附图 and the suitability batches fork only when this holds.

    Returns
    -------
    bool
        Whether a ``fork`` start method may be used here.
    """
    import multiprocessing
    import sys
    import threading

    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.current_thread() is not threading.main_thread() or multiprocessing.parent_process() is not None:
        return False
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    return not others if sys.version_info >= (3, 12) else all(t.daemon for t in others)
