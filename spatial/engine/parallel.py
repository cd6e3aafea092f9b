"""Threads for the geometry work: shapely releases the GIL in its vectorised calls."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from spatial.errors import EcozoneError

T = TypeVar("T")
#: How many :func:`frozen_heap` blocks are open (in any thread): the heap is unfrozen when the last one ends.
_FROZEN = 0
_FROZEN_LOCK = threading.Lock()
#: The work of the copy :func:`start_forked` is starting: set just before the fork, read by the child.
_FORKED: tuple[Callable[[], Any], Any] | None = None


class ForkedWorkLost(EcozoneError, RuntimeError):
    """The forked copy ended without a result (killed, out of memory)."""

__all__ = ["run_tasks", "run_jobs", "default_threads", "fork_is_safe", "start_forked", "ForkedWorkLost"]


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


def _forked_child() -> None:
    """Run the work of :data:`_FORKED` in the forked copy; send back its result or error and its warnings."""
    import pickle
    import warnings

    assert _FORKED is not None
    fn, conn = _FORKED
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ok, value = True, fn()
        except BaseException as err:  # handed to the parent, raised there
            ok, value = False, err
    said = [(str(w.message), w.category) for w in caught]
    try:
        pickle.dumps(value)
    except Exception:  # an error that does not travel: its type and text do
        ok, value = False, RuntimeError(f"{type(value).__name__}: {value}")
    conn.send((ok, value, said))
    conn.close()


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects alive now out of the garbage collector's passes while the block runs (re-entrant).

    A report or a fork runs with the zoning, the screening and their frames already in memory
    (hundreds of thousands of objects).  Frozen (``gc.freeze``), a full collection does not walk them
    again (the demo report spent 0.26 s of its 5 s in collections), and a forked copy does not write
    to their headers (which would copy the inherited heap page by page).  Only the first of blocks
    that overlap freezes, so a server writing reports back to back freezes no more than what was
    alive when the first began.  Objects freed by their reference count go as always; reference
    cycles among the frozen ones wait until the last block ends.

    Yields
    ------
    None
    """
    global _FROZEN
    with _FROZEN_LOCK:
        if not _FROZEN:  # the first block freezes; a block inside it (or beside it, in another thread) adds nothing
            gc.freeze()
        _FROZEN += 1
    try:
        yield
    finally:
        with _FROZEN_LOCK:
            _FROZEN -= 1
            if not _FROZEN:
                gc.unfreeze()


def start_forked(fn: Callable[[], T], *, worth: bool = True) -> Callable[[], T]:
    """Start ``fn`` in a forked copy of this process; return a function that waits for its result.

    For independent writers (the tables and the map beside the report): the copy works on the other
    core while this process goes on.  The copy's warnings are raised again here, its error is raised
    here.  When forking is not safe (:func:`fork_is_safe`), not worth it (``worth`` False, one core)
    or fails, ``fn`` itself is returned: the caller runs it when it waits, as if nothing was forked.

    Parameters
    ----------
    fn : callable
        Work without arguments; its result must pickle.
    worth : bool, default True
        The caller's judgement that the work is long enough to pay for a fork (~0.1 s).

    Returns
    -------
    callable
        Call it to wait for (or, when nothing was forked, do) the work and get its result.

    Raises
    ------
    ForkedWorkLost
        From the returned function: the copy ended without a result.
    """
    global _FORKED
    import multiprocessing

    if not worth or (os.cpu_count() or 1) < 2 or not fork_is_safe():
        return fn
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    _FORKED = (fn, send)
    try:
        with frozen_heap():  # the copy's garbage collection leaves the inherited heap alone (no page copied for nothing)
            proc = ctx.Process(target=_forked_child, daemon=True, name="ecozone-writer")
            proc.start()
    except OSError:
        recv.close()
        return fn
    finally:
        _FORKED = None
        send.close()

    def wait() -> T:
        import warnings

        try:
            ok, value, said = recv.recv()
        except EOFError:
            proc.join()
            raise ForkedWorkLost(
                f"写出子进程意外退出（退出码 {proc.exitcode}），未返回结果 / the forked writer ended without a result (exit code {proc.exitcode})"
            ) from None
        finally:
            recv.close()
        proc.join()
        for message, category in said:
            warnings.warn(message, category, stacklevel=2)
        if not ok:
            raise value
        return value

    return wait
