"""Records of ``ecozone serve``: users, screening jobs with their sites, zoning versions.

SQLAlchemy keeps one schema for the embedded SQLite default and for a
bureau's PostgreSQL.  Worker processes open their own :class:`Store` on the
same URL and write progress there, so every uvicorn worker sees it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Store",
    "User",
    "Job",
    "JobSite",
    "JobAttempt",
    "Claim",
    "ZoningVersion",
    "LoginSession",
    "new_id",
    "now",
    "SESSION_HOURS",
    "QUEUE_RUNNER",
    "LEASE_LOST",
    "MAX_ATTEMPTS",
    "TOO_MANY_ATTEMPTS",
]

#: ``Job.runner`` of a job waiting in the durable queue for any ``ecozone worker`` (no server owns it).
QUEUE_RUNNER = "queue"
#: A job whose worker died this many times is failed instead of being taken over again (a job that kills its worker).
MAX_ATTEMPTS = 3
#: Why such a job failed.
TOO_MANY_ATTEMPTS = (
    f"该任务已尝试 {MAX_ATTEMPTS} 次，每次工作进程都中途停止（可能内存不足或被终止），不再重试。请分批提交地块，或请管理员查看工作进程日志。"
    f"\nthe job's worker died in each of {MAX_ATTEMPTS} attempts (out of memory or killed); it is not retried: submit the sites in smaller batches"
)
#: Outcome and reason recorded for an attempt whose worker stopped renewing its lease.
LEASE_LOST = "租约过期：该工作进程停止响应（被终止、断电或失联），任务已由其他工作进程从头重做。\nlease expired: the worker stopped renewing it; the job was taken over from the start"

#: A login lasts at most this long (the cookie's max-age is the same).
SESSION_HOURS = 12


def new_id() -> str:
    """Return a random, unguessable id (144 bits, URL-safe)."""
    return secrets.token_urlsafe(18)


def now() -> datetime:
    """Return the current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend (SQLite stores it without the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store in UTC."""
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Read back as UTC-aware."""
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)  # PostgreSQL: aware already


class Base(DeclarativeBase):
    """Declarative base of the serve schema."""


class User(Base):
    """A person who may log in."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class ZoningVersion(Base):
    """One zoning package as uploaded (or given with ``--zoning``), kept for what-if runs."""

    __tablename__ = "zoning_versions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="validating")  # validating/pending/accepted/rejected/failed
    path: Mapped[str] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    findings: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")


class Job(Base):
    """One screening: who ran it, on what, with which zoning and rules, and what came out."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_id)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued/running/done/failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(100), default="排队中")
    runner: Mapped[str] = mapped_column(String(100), default="")
    zoning_version: Mapped[str] = mapped_column(String(40), default="")
    zoning_label: Mapped[str] = mapped_column(String(200), default="")
    rules_sha256: Mapped[str] = mapped_column(String(64), default="")
    params: Mapped[Any] = mapped_column(JSON, default=dict)
    inputs: Mapped[Any] = mapped_column(JSON, default=list)
    counts: Mapped[Any] = mapped_column(JSON, default=dict)
    warnings: Mapped[Any] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    n_sites: Mapped[int] = mapped_column(Integer, default=0)
    #: Queue jobs: the running attempt owns the job until then (renewed by its heartbeat); None for a server's own pool.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    #: How many times the job was claimed.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Where the finished attempt's files are, relative to the job folder ('' : the folder itself).
    result_dir: Mapped[str] = mapped_column(String(100), default="")


class JobAttempt(Base):
    """One run of a job by one worker: who, when, and how it ended (``running``/``done``/``failed``/``lost``)."""

    __tablename__ = "job_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(40), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    n: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(100))
    claim: Mapped[str] = mapped_column(String(120), index=True)
    started: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class Claim:
    """A queue job taken by one worker: the job id, the token that must own it, and the attempt number."""

    job_id: str
    token: str
    n: int


class JobSite(Base):
    """A screened site's verdict, for filtering the history by name or verdict."""

    __tablename__ = "job_sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(40), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, index=True)
    verdict: Mapped[str] = mapped_column(String(16), index=True)


class LoginSession(Base):
    """A browser login, kept server-side so logout, a password change or a user removal end it at once.

    Only the SHA-256 of the cookie's random session id is stored.
    """

    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(100), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires: Mapped[datetime] = mapped_column(UTCDateTime())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for a worker's progress write
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """Database access for the app and its workers.

    Parameters
    ----------
    url : str
        SQLAlchemy URL; ``postgresql://`` URLs use the psycopg 3 driver.
    """

    def __init__(self, url: str) -> None:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Close pooled connections (a stopped server leaves none open)."""
        self.engine.dispose()

    def create_schema(self) -> None:
        """Create missing tables (idempotent; safe when several workers start together)."""
        try:
            Base.metadata.create_all(self.engine)
        except IntegrityError:  # a concurrent worker created them first (PostgreSQL)
            pass
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Add the columns a newer ecozone declares to tables an older one created (rows are kept as they are)."""
        have = {t: {c["name"] for c in inspect(self.engine).get_columns(t)} for t in Base.metadata.tables}
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if col.name in have[table.name]:
                    continue
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {col.name} {col.type.compile(dialect=self.engine.dialect)}"
                default = col.default.arg if col.default is not None and not callable(col.default.arg) else None
                if isinstance(default, int | float):
                    ddl += f" DEFAULT {default}"
                elif isinstance(default, str):
                    ddl += " DEFAULT '" + default.replace("'", "''") + "'"
                try:
                    with self.engine.begin() as con:
                        con.execute(text(ddl))
                except (OperationalError, ProgrammingError):  # another process added it first
                    pass
            for index in table.indexes:
                try:
                    index.create(self.engine, checkfirst=True)
                except (OperationalError, ProgrammingError):
                    pass

    @property
    def _pg(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _now(self) -> Any:
        """Return the database's clock on PostgreSQL (one clock for every machine), this process's on SQLite (one machine)."""
        return func.now() if self._pg else now()

    def _lease_end(self, seconds: float) -> Any:
        return func.now() + timedelta(seconds=seconds) if self._pg else now() + timedelta(seconds=seconds)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on error."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    # ------------------------------------------------------------------ users
    def user(self, name: str) -> User | None:
        """Return the user called ``name``, if any."""
        with self.session() as s:
            return s.scalar(select(User).where(User.name == name))

    def users(self) -> list[User]:
        """Return all users by name."""
        with self.session() as s:
            return list(s.scalars(select(User).order_by(User.name)))

    def has_users(self) -> bool:
        """Return True when at least one user exists."""
        with self.session() as s:
            return bool(s.scalar(select(func.count()).select_from(User)))

    def add_user(self, name: str, password_hash: str, *, admin: bool = False) -> User:
        """Create a user (the name must be new)."""
        with self.session() as s:
            u = User(name=name, password_hash=password_hash, is_admin=admin)
            s.add(u)
        return u

    def set_password(self, name: str, password_hash: str, *, revoke: bool = True) -> bool:
        """Replace a user's password hash; return whether the user exists.

        Parameters
        ----------
        name, password_hash : str
            The user and the new argon2 hash.
        revoke : bool, default True
            End every login of the user at once (a password change); False
            for the silent rehash at login.
        """
        with self.session() as s:
            u = s.scalar(select(User).where(User.name == name))
            if u is None:
                return False
            u.password_hash = password_hash
            if revoke:
                s.execute(delete(LoginSession).where(LoginSession.user == name))
            return True

    def remove_user(self, name: str) -> bool:
        """Delete a user; return whether one existed."""
        with self.session() as s:
            u = s.scalar(select(User).where(User.name == name))
            if u is None:
                return False
            s.delete(u)
            s.execute(delete(LoginSession).where(LoginSession.user == name))
            return True

    # ------------------------------------------------------------------ login sessions
    def start_login(self, user: str) -> str:
        """Record a new login of ``user``; return its random session id (for the signed cookie)."""
        token = secrets.token_urlsafe(32)
        with self.session() as s:
            s.execute(delete(LoginSession).where(LoginSession.expires < now()))
            s.add(LoginSession(id=_digest(token), user=user, expires=now() + timedelta(hours=SESSION_HOURS)))
        return token

    def login_user(self, token: str) -> str | None:
        """Return who a live session id belongs to (None: unknown, ended or expired)."""
        with self.session() as s:
            rec = s.get(LoginSession, _digest(token))
            return rec.user if rec is not None and rec.expires > now() else None

    def end_login(self, token: str) -> None:
        """End one login (logout)."""
        with self.session() as s:
            s.execute(delete(LoginSession).where(LoginSession.id == _digest(token)))

    def end_logins(self, user: str) -> int:
        """End every login of ``user``; return how many there were."""
        with self.session() as s:
            return int(s.execute(delete(LoginSession).where(LoginSession.user == user)).rowcount or 0)

    # ------------------------------------------------------------------ jobs
    def add_job(self, job: Job) -> Job:
        """Insert a job record."""
        with self.session() as s:
            s.add(job)
        return job

    def job(self, job_id: str) -> Job | None:
        """Return one job by id."""
        with self.session() as s:
            return s.get(Job, job_id)

    def update_job(self, job_id: str, *, claim: str | None = None, **values: Any) -> bool:
        """Set fields of a job; with ``claim``, only while that claim still runs it.

        Parameters
        ----------
        job_id : str
            The job.
        claim : str, optional
            The runner token :meth:`claim_job` returned: the update applies only
            while the job is ``running`` under it (a stale worker writes nothing).
        **values
            Columns to set.

        Returns
        -------
        bool
            Whether a row was changed.
        """
        if claim is not None:
            return self.transition(job_id, ("running",), claim=claim, **values)
        with self.session() as s:
            j = s.get(Job, job_id)
            if j is None:
                return False
            for k, v in values.items():
                setattr(j, k, v)
            return True

    def transition(self, job_id: str, expected: tuple[str, ...], *, claim: str | None = None, **values: Any) -> bool:
        """Compare-and-set a job's state: ``UPDATE … WHERE status IN expected [AND runner = claim]``.

        Parameters
        ----------
        job_id : str
            The job.
        expected : tuple of str
            States the job must be in for the change to apply.
        claim : str, optional
            The runner token that must still own the job.
        **values
            Columns to set (``status`` among them to change the state).

        Returns
        -------
        bool
            True when this caller changed the job; False when another owner
            had already decided it (nothing is written).
        """
        with self.session() as s:
            if not self._set_if(s, job_id, expected, claim, values):
                return False
            if values.get("status") in ("done", "failed"):
                self._close_attempt(s, job_id, claim, str(values["status"]), str(values.get("error", "")))
            return True

    @staticmethod
    def _set_if(s: Session, job_id: str, expected: tuple[str, ...], claim: str | None, values: dict[str, Any]) -> bool:
        """Compare-and-set in the caller's transaction; True when this UPDATE changed the job."""
        q = update(Job).where(Job.id == job_id, Job.status.in_(expected))
        if claim is not None:
            q = q.where(Job.runner == claim)
        return s.execute(q.values(**values).execution_options(synchronize_session=False)).rowcount == 1

    def _close_attempt(self, s: Session, job_id: str, claim: str | None, outcome: str, error: str = "") -> None:
        """End the job's running attempt (that of ``claim`` when given) in the caller's transaction."""
        q = update(JobAttempt).where(JobAttempt.job_id == job_id, JobAttempt.outcome == "running")
        if claim is not None:
            q = q.where(JobAttempt.claim == claim)
        s.execute(q.values(outcome=outcome, ended=self._now(), error=error).execution_options(synchronize_session=False))

    def claim_job(self, job_id: str, *, worker: str = "", **values: Any) -> str | None:
        """Take a queued job for one run in the server's own pool: ``queued`` → ``running`` under a new runner token.

        Parameters
        ----------
        job_id : str
            The job.
        worker : str
            ``host:pid`` of the process that runs it (recorded in the attempt).
        **values
            Columns to set with the claim.

        Returns
        -------
        str or None
            The token to pass as ``claim`` to later updates; None when the job is
            gone or no longer queued (another owner decided it).
        """
        job = self.job(job_id)
        if job is None:
            return None
        token = f"{job.runner.split('/')[0]}/{secrets.token_hex(6)}"
        n = (job.attempts or 0) + 1
        q = update(Job).where(Job.id == job_id, Job.status == "queued", Job.runner == job.runner)
        with self.session() as s:
            res = s.execute(q.values(status="running", runner=token, attempts=n, **values).execution_options(synchronize_session=False))
            if res.rowcount != 1:
                return None
            s.add(JobAttempt(job_id=job_id, n=n, worker=worker or token.split("/")[0], claim=token, started=now()))
            return token

    def claim_next(self, worker: str, lease_s: float) -> Claim | None:
        """Take the oldest job waiting in the durable queue, or one whose lease expired, for ``lease_s`` seconds.

        PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks a row no other
        worker is taking, then a compare-and-set gives it a new claim token; a
        job taken over from a dead worker has that worker's attempt closed as
        ``lost``; a job whose worker died :data:`MAX_ATTEMPTS` times is failed
        instead.  SQLite (one machine): the same compare-and-set decides
        between workers that read the same row.

        Parameters
        ----------
        worker : str
            ``host:pid`` of the claiming process.
        lease_s : float
            Seconds the claim lasts unless renewed (:meth:`renew_lease`).

        Returns
        -------
        Claim or None
            The job taken, or None when none is ready (or another worker won the race).
        """
        t = self._now()
        ready = or_(
            and_(Job.status == "queued", Job.runner == QUEUE_RUNNER),
            and_(Job.status == "running", Job.lease_until.is_not(None), Job.lease_until < t),
        )
        q = select(Job.id, Job.status, Job.runner, Job.attempts, Job.lease_until).where(ready).order_by(Job.created, Job.id).limit(1)
        if self._pg:
            q = q.with_for_update(skip_locked=True, of=Job)
        try:
            with self.session() as s:
                row = s.execute(q).first()
                if row is None:
                    return None
                n, token = (row.attempts or 0) + 1, f"{worker}/{secrets.token_hex(6)}"
                cas = update(Job).where(Job.id == row.id, Job.status == row.status, Job.runner == row.runner)
                if row.status == "running" and (row.attempts or 0) >= MAX_ATTEMPTS:  # a job that kills its worker: stop here
                    res = s.execute(
                        cas.values(status="failed", stage="失败", finished=t, error=TOO_MANY_ATTEMPTS).execution_options(synchronize_session=False)
                    )
                    if res.rowcount == 1:
                        lost = update(JobAttempt).where(JobAttempt.job_id == row.id, JobAttempt.claim == row.runner, JobAttempt.outcome == "running")
                        s.execute(lost.values(outcome="lost", ended=row.lease_until, error=LEASE_LOST).execution_options(synchronize_session=False))
                    return None
                values = {"status": "running", "runner": token, "attempts": n, "lease_until": self._lease_end(lease_s), "started": t}
                res = s.execute(cas.values(**values, progress=2.0, stage="读取分区数据", error="").execution_options(synchronize_session=False))
                if res.rowcount != 1:
                    return None
                if row.status == "running":  # taken over: the dead worker's attempt ended when its lease did
                    lost = update(JobAttempt).where(JobAttempt.job_id == row.id, JobAttempt.claim == row.runner, JobAttempt.outcome == "running")
                    s.execute(lost.values(outcome="lost", ended=row.lease_until, error=LEASE_LOST).execution_options(synchronize_session=False))
                s.add(JobAttempt(job_id=row.id, n=n, worker=worker, claim=token, started=now(), heartbeat=now()))
        except OperationalError:
            if self._pg:
                raise
            return None  # SQLite: another worker wrote between our read and write; try again at the next poll
        return Claim(row.id, token, n)

    def renew_lease(self, claim: Claim, lease_s: float) -> bool:
        """Heartbeat: extend the claim's lease by ``lease_s`` seconds; False when the claim no longer owns the job."""
        with self.session() as s:
            if not self._set_if(s, claim.job_id, ("running",), claim.token, {"lease_until": self._lease_end(lease_s)}):
                return False
            s.execute(update(JobAttempt).where(JobAttempt.claim == claim.token).values(heartbeat=self._now()).execution_options(synchronize_session=False))
            return True

    def job_attempts(self, job_id: str) -> list[JobAttempt]:
        """Return every attempt of a job, first first."""
        with self.session() as s:
            return list(s.scalars(select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.n, JobAttempt.id)))

    def finish_job(self, job_id: str, sites: list[tuple[str, str, str]], *, claim: str | None = None, **values: Any) -> bool:
        """Mark a running job done and store its sites' verdicts in one transaction (compare-and-set).

        With ``result_dir`` among ``values`` (the durable queue) the job's files
        were written into that attempt's own folder beforehand: this one
        compare-and-set publishes them and decides the job, so a stale worker
        whose claim was taken over publishes nothing.

        Returns
        -------
        bool
            False when the job was no longer running under ``claim`` (nothing written).
        """
        with self.session() as s:
            if not self._set_if(s, job_id, ("running",), claim, values):
                return False
            s.add_all(JobSite(job_id=job_id, site_id=i, name=n, verdict=v) for i, n, v in sites)
            if values.get("status") == "done":
                self._close_attempt(s, job_id, claim, "done")
            return True

    def jobs(self, *, owner: str | None = None, site_name: str = "", verdict: str = "", limit: int = 500) -> list[Job]:
        """List jobs, newest first.

        Parameters
        ----------
        owner : str, optional
            Only this user's jobs (None: everyone's, for admins).
        site_name : str
            Only jobs with a site whose name contains this text.
        verdict : str
            Only jobs with at least one site of this verdict.
        limit : int
            At most this many.

        Returns
        -------
        list of Job
            Matching jobs.
        """
        q = select(Job).order_by(Job.created.desc()).limit(limit)
        if owner is not None:
            q = q.where(Job.owner == owner)
        if site_name:
            pattern = "%" + site_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            q = q.where(Job.id.in_(select(JobSite.job_id).where(JobSite.name.like(pattern, escape="\\"))))
        if verdict:
            q = q.where(Job.id.in_(select(JobSite.job_id).where(JobSite.verdict == verdict)))
        with self.session() as s:
            return list(s.scalars(q))

    def job_sites(self, job_id: str) -> list[JobSite]:
        """Return a job's site verdicts in input order."""
        with self.session() as s:
            return list(s.scalars(select(JobSite).where(JobSite.job_id == job_id).order_by(JobSite.id)))

    def unfinished_jobs(self) -> list[Job]:
        """Return jobs still queued or running."""
        with self.session() as s:
            return list(s.scalars(select(Job).where(Job.status.in_(("queued", "running")))))

    # ------------------------------------------------------------------ zoning versions
    def add_version(self, version: ZoningVersion) -> ZoningVersion | None:
        """Insert a zoning version; None when its ``source_key`` is already registered."""
        try:
            with self.session() as s:
                if not version.seq:
                    version.seq = (s.scalar(select(func.max(ZoningVersion.seq))) or 0) + 1
                s.add(version)
        except IntegrityError:
            return None
        return version

    def version(self, version_id: str) -> ZoningVersion | None:
        """Return one zoning version."""
        with self.session() as s:
            return s.get(ZoningVersion, version_id)

    def version_by_key(self, key: str) -> ZoningVersion | None:
        """Return the version registered under ``source_key``."""
        with self.session() as s:
            return s.scalar(select(ZoningVersion).where(ZoningVersion.source_key == key))

    def versions(self, *, accepted_only: bool = False) -> list[ZoningVersion]:
        """List zoning versions, newest first."""
        q = select(ZoningVersion).order_by(ZoningVersion.seq.desc())
        if accepted_only:
            q = q.where(ZoningVersion.status == "accepted")
        with self.session() as s:
            return list(s.scalars(q))

    def update_version(self, version_id: str, **values: Any) -> None:
        """Set fields of a zoning version."""
        with self.session() as s:
            v = s.get(ZoningVersion, version_id)
            if v is not None:
                for k, val in values.items():
                    setattr(v, k, val)
