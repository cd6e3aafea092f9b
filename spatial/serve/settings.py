"""What the operator of ``ecozone serve`` chose, in one object."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ServeSettings", "is_loopback", "host_header_name", "MB", "LOOPBACK_NAMES"]

#: Host headers always answered: the planner's own computer.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

MB = 1024 * 1024


def is_loopback(host: str) -> bool:
    """Return True for 127.0.0.0/8, ::1 and ``localhost``.

    Parameters
    ----------
    host : str
        Address or name given to ``--host``.

    Returns
    -------
    bool
        Whether only this computer can connect.
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_header_name(host: str) -> str:
    """Return ``host`` as it appears in a Host header (IPv6 in brackets, lower case).

    Parameters
    ----------
    host : str
        Address or name.

    Returns
    -------
    str
        ``::1`` → ``[::1]``; names lower-cased.
    """
    h = host.strip().lower()
    try:
        if ipaddress.ip_address(h.strip("[]")).version == 6:
            return f"[{h.strip('[]')}]"
    except ValueError:
        pass
    return h


def _zoning_setting(value: str | None) -> Path | str | None:
    """``ECOZONE_ZONING``: a path, or a PostGIS package URL kept as text."""
    if not value:
        return None
    from spatial.pgzoning import is_db_url

    return value if is_db_url(value) else Path(value)


@dataclass
class ServeSettings:
    """Settings of one ``ecozone serve`` instance.

    Parameters
    ----------
    data_dir : Path
        Jobs, uploads, zoning versions and (by default) the SQLite database live here.
    zoning : Path or str, optional
        Zoning package registered as the first version (default: the bundled 连州 demo), or the
        ``postgresql://…?schema=…`` URL of a version published with ``ecozone zoning publish``.
    db_url : str, optional
        SQLAlchemy URL (default ``sqlite:///<data_dir>/ecozone.db``); ``postgresql://…`` for a bureau.
    host : str
        Bind address; anything but loopback needs users or a token.
    token : str, optional
        Bearer token for scripts (``Authorization: Bearer …``); also accepted on the login page.
    workers : int
        Screenings run at the same time (bounded pool).
    no_workers : bool
        Web tier only (``--no-workers``): screenings wait in the database for
        ``ecozone worker`` processes on other machines; uploads are still validated here.
    pool : {'process', 'thread'}
        Worker kind: processes isolate the engine (default); threads start faster (tests).
    max_upload_bytes : int
        Request body limit (413 above it).
    max_unzip_bytes, max_unzip_files : int
        Caps on what one zip may expand to.
    cookie_secure : bool, optional
        Send the session cookie only over HTTPS (default: on unless bound to loopback).
    secret_key : str, optional
        Signs session cookies; default read from (or created in) ``data_dir/secret.key``.
    allowed_hosts : tuple of str
        Host header names answered besides 127.0.0.1, localhost, [::1] and
        ``host`` (``--allowed-host``); anything else gets 400, which stops DNS
        rebinding.
    login_delay_s : float
        First wait after 5 failed logins (doubles with each further failure).
    """

    data_dir: Path
    zoning: Path | str | None = None
    db_url: str | None = None
    host: str = "127.0.0.1"
    token: str | None = None
    workers: int = 2
    no_workers: bool = False
    pool: str = "process"
    max_upload_bytes: int = 200 * MB
    max_unzip_bytes: int = 1024 * MB
    max_unzip_files: int = 2000
    cookie_secure: bool | None = None
    secret_key: str | None = field(default=None, repr=False)
    allowed_hosts: tuple[str, ...] = ()
    login_delay_s: float = 1.0

    def __post_init__(self) -> None:
        """Resolve defaults that depend on other fields."""
        self.data_dir = Path(self.data_dir).resolve()
        if self.db_url is None:
            self.db_url = f"sqlite:///{self.data_dir / 'ecozone.db'}"
        if self.cookie_secure is None:
            self.cookie_secure = not is_loopback(self.host)

    @property
    def loopback(self) -> bool:
        """True when only this computer can reach the server."""
        return is_loopback(self.host)

    def trusted_hosts(self) -> list[str]:
        """Host header names this server answers (Starlette's ``TrustedHostMiddleware`` list).

        Returns
        -------
        list of str
            Loopback names, the bound address (for a wildcard bind, this
            computer's name), and every ``allowed_hosts`` entry.
        """
        names = list(LOOPBACK_NAMES)
        bound = host_header_name(self.host)
        if bound in ("0.0.0.0", "[::]"):
            names.append(socket.gethostname().lower())
        else:
            names.append(bound)
        names += [host_header_name(h) for h in self.allowed_hosts if h.strip()]
        return list(dict.fromkeys(names))

    def ensure_dirs(self) -> None:
        """Create the data directory tree (jobs, zoning versions)."""
        for sub in ("jobs", "zoning", "tmp"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)

    def session_secret(self) -> str:
        """Return the cookie-signing key, creating ``secret.key`` (mode 600) on first use.

        Returns
        -------
        str
            The key; several uvicorn workers sharing the data dir share it.
        """
        if self.secret_key:
            return self.secret_key
        env = os.environ.get("ECOZONE_SECRET_KEY")
        if env:
            return env
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another worker created it first
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @classmethod
    def from_env(cls) -> ServeSettings:
        """Build settings from ``ECOZONE_*`` variables (for ``uvicorn --factory --workers N``).

        Returns
        -------
        ServeSettings
            ``ECOZONE_DATA_DIR`` (required), ``ECOZONE_ZONING``, ``ECOZONE_DB``, ``ECOZONE_HOST``,
            ``ECOZONE_TOKEN``, ``ECOZONE_JOBS``, ``ECOZONE_NO_WORKERS`` (1: web tier only),
            ``ECOZONE_MAX_UPLOAD_MB``, ``ECOZONE_COOKIE_SECURE``, ``ECOZONE_ALLOWED_HOSTS`` (comma-separated).
        """
        env = os.environ
        secure = env.get("ECOZONE_COOKIE_SECURE")
        return cls(
            data_dir=Path(env.get("ECOZONE_DATA_DIR", "ecozone-data")),
            zoning=_zoning_setting(env.get("ECOZONE_ZONING")),
            db_url=env.get("ECOZONE_DB") or None,
            host=env.get("ECOZONE_HOST", "127.0.0.1"),
            token=env.get("ECOZONE_TOKEN") or None,
            workers=int(env.get("ECOZONE_JOBS", "2")),
            no_workers=env.get("ECOZONE_NO_WORKERS", "").lower() in ("1", "true", "yes"),
            max_upload_bytes=int(float(env.get("ECOZONE_MAX_UPLOAD_MB", "200")) * MB),
            cookie_secure=None if secure is None else secure.lower() in ("1", "true", "yes"),
            allowed_hosts=tuple(h.strip() for h in env.get("ECOZONE_ALLOWED_HOSTS", "").split(",") if h.strip()),
        )
