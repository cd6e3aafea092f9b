"""The durable job queue's workers: ``ecozone worker`` processes on any machine take jobs from the database.

A web tier started with ``ecozone serve --no-workers`` only records jobs
(``Job.runner`` = ``queue``).  Each worker process, on any machine that
mounts the same data dir:

1. claims the oldest waiting job, or one whose lease expired
   (:meth:`~spatial.serve.store.Store.claim_next`: ``SELECT … FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, then a compare-and-set on a new claim token; the
   attempt is recorded);
2. renews the lease from a heartbeat thread every third of the lease; a
   worker that dies (``kill -9``, power off, network gone) stops renewing, and
   after the lease another worker takes the job over from the start (the dead
   attempt is recorded as ``lost``);
3. writes every file into its own attempt folder ``jobs/<id>/attempts/<n>-…``
   and then finishes with one compare-and-set on its claim token that marks
   the job done and points it at that folder, so a job is finished at most
   once and a stale worker never publishes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spatial.errors import InputError
from spatial.job import ALL_PRODUCTS, Product
from spatial.serve.store import Claim, Store
from spatial.serve.worker import attempt_dir, execute_screening, runner_id, store_for, watch_parent

__all__ = ["open_queue", "check_data_dir", "Heartbeat", "work_one", "run_worker", "run_workers", "DEFAULT_LEASE_S", "DEFAULT_POLL_S"]

log = logging.getLogger("ecozone.worker")

#: Seconds a claim lasts without a heartbeat (a dead worker's job is taken over after this).
DEFAULT_LEASE_S = 60.0
#: Seconds between looks at an empty queue.
DEFAULT_POLL_S = 1.0


def shown_url(url: str) -> str:
    """Return a database URL as messages show it: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://")
    except Exception:  # noqa: BLE001 - an unparsable URL has no password we can find; show only its scheme
        return url.split("://", 1)[0] + "://…"


def open_queue(url: str) -> Store:
    """Open the queue database and create missing tables; a bilingual error when it cannot be reached.

    Parameters
    ----------
    url : str
        ``postgresql://user@host/db`` (several machines) or ``sqlite:///…/ecozone.db`` (one machine).

    Returns
    -------
    Store
        The records, schema checked.

    Raises
    ------
    InputError
        The database cannot be reached or logged into (the URL is shown without its password).
    """
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        store = Store(url)
        store.create_schema()
    except (SQLAlchemyError, ArgumentError, ImportError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"无法连接任务队列数据库 {shown_url(url)}：{reason}。请确认数据库服务器已启动、本机可访问其端口（防火墙、pg_hba.conf），"
            "用户名和密码正确（密码可放在 PGPASSWORD 或 ~/.pgpass，不要写在命令行里），然后重新运行 ecozone worker。",
            f"cannot reach the queue database {shown_url(url)}: {reason}; check that the server is running and reachable "
            "(firewall, pg_hba.conf) and that the user and password are right (PGPASSWORD or ~/.pgpass), then run ecozone worker again",
        ) from exc
    return store


def check_data_dir(data_dir: Path) -> Path:
    """Return the shared data dir resolved; refuse one that does not hold the web server's ``jobs/`` folder.

    Raises
    ------
    InputError
        ``DIR/jobs`` is missing: the share is not mounted here, or the web server never started on it.
    """
    data_dir = Path(data_dir).resolve()
    if not (data_dir / "jobs").is_dir():
        raise InputError(
            f"数据目录 {data_dir} 下没有 jobs 文件夹：请在本机挂载与网页服务器共享的数据目录（NFS/SMB），"
            "或先在该目录上启动一次 ecozone serve，再运行 ecozone worker --data-dir 该目录。",
            f"{data_dir} has no jobs/ folder: mount the data dir shared with the web server (NFS/SMB), "
            "or start ecozone serve on it once, then run ecozone worker --data-dir DIR",
        )
    return data_dir


class Heartbeat:
    """Renew a claim's lease every third of the lease from a daemon thread until stopped.

    Parameters
    ----------
    store : Store
        The queue.
    claim : Claim
        What to renew.
    lease_s : float
        The lease length.
    """

    def __init__(self, store: Store, claim: Claim, lease_s: float) -> None:
        self.store, self.claim, self.lease_s = store, claim, lease_s
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"ecozone-heartbeat-{claim.job_id[:6]}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                if not self.store.renew_lease(self.claim, self.lease_s):
                    log.warning("job %s: lease taken over by another worker", self.claim.job_id)
                    self._lost.set()
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: keep trying until the lease runs out
                log.warning("job %s: heartbeat failed; retrying", self.claim.job_id, exc_info=True)

    def lost(self) -> bool:
        """Return True once another worker owns the job."""
        return self._lost.is_set()

    def __enter__(self) -> Heartbeat:
        """Start beating."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop beating."""
        self._stop.set()
        self._thread.join(timeout=10)


def work_one(
    store: Store, data_dir: Path, *, lease_s: float = DEFAULT_LEASE_S, worker: str | None = None, products: frozenset[Product] = ALL_PRODUCTS
) -> str | None:
    """Claim one job and run it to its end; return its id (None: nothing was ready).

    Parameters
    ----------
    store : Store
        The queue.
    data_dir : Path
        The shared data dir.
    lease_s : float
        Seconds a claim lasts between heartbeats.
    worker : str, optional
        ``host:pid`` recorded in the attempt (default: this process).
    products : frozenset of Product
        The files each job writes (default: all).
    """
    claim = store.claim_next(worker or runner_id(), lease_s)
    if claim is None:
        return None
    log.info("job %s: attempt %d (%s)", claim.job_id, claim.n, claim.token)
    with Heartbeat(store, claim, lease_s) as hb:
        execute_screening(store, data_dir, claim.job_id, claim.token, attempt=attempt_dir(claim.n, claim.token), lost=hb.lost, products=products)
    return claim.job_id


def run_worker(
    db_url: str,
    data_dir: str,
    lease_s: float = DEFAULT_LEASE_S,
    poll_s: float = DEFAULT_POLL_S,
    max_jobs: int = 0,
    stop: Callable[[], bool] | None = None,
    parent: int | None = None,
    products: frozenset[Product] = ALL_PRODUCTS,
) -> int:
    """Take jobs from the queue until stopped; return how many were run.

    Parameters
    ----------
    db_url, data_dir : str
        The queue database and the shared data dir.
    lease_s, poll_s : float
        Lease length; seconds between looks at an empty queue.
    max_jobs : int
        Stop after this many jobs (0: never).
    stop : callable, optional
        Returns True to stop before the next job (default: after SIGTERM/SIGINT).
    parent : int, optional
        Pid of the ``ecozone worker`` that started this process (it ends with it).
    products : frozenset of Product
        The files each job writes (default: all).
    """
    if parent is not None:
        watch_parent(parent)
    stopping = threading.Event()
    if stop is None and threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, _frame: Any) -> None:
            if stopping.is_set():  # a second signal: leave now; the lease hands the job to another worker
                os._exit(128 + signum)
            log.warning("ecozone worker %s: stopping after the current job", os.getpid())
            stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        # A child of a multi-process worker hears Ctrl-C through its parent (forwarded once as SIGTERM).
        signal.signal(signal.SIGINT, on_signal if parent is None else signal.SIG_IGN)
    store = store_for(db_url)
    done = 0
    while not (stopping.is_set() or (stop is not None and stop())):
        if work_one(store, Path(data_dir), lease_s=lease_s, products=products) is None:
            stopping.wait(poll_s)
            continue
        done += 1
        if max_jobs and done >= max_jobs:
            break
    return done


def run_workers(
    db_url: str, data_dir: Path, processes: int, *, lease_s: float = DEFAULT_LEASE_S, poll_s: float = DEFAULT_POLL_S, products: frozenset[Product] = ALL_PRODUCTS
) -> None:
    """Run ``processes`` worker processes (spawned) until SIGTERM/SIGINT; one process runs here.

    Parameters
    ----------
    db_url : str
        The queue database.
    data_dir : Path
        The shared data dir.
    processes : int
        Worker processes on this machine (about one per CPU core).
    lease_s, poll_s : float
        See :func:`run_worker`.
    products : frozenset of Product
        The files each job writes (default: all).
    """
    if processes <= 1:
        run_worker(db_url, str(data_dir), lease_s, poll_s, products=products)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=run_worker, args=(db_url, str(data_dir), lease_s, poll_s, 0, None, os.getpid(), products), name=f"ecozone-worker-{i}") for i in range(processes)]
    for c in children:
        c.start()

    def forward(_signum: int, _frame: Any) -> None:  # first: stop after the current job; second: leave now
        for c in children:
            if c.pid is not None and c.is_alive():
                os.kill(c.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while any(c.is_alive() for c in children):
        time.sleep(0.5)
