"""A throwaway PostgreSQL (+ PostGIS) server for tests and benchmarks.

``start_postgres(root)`` runs initdb into ``root`` (trust auth, a free
loopback port, fsync off), starts the server and yields its URL; the server
is stopped on exit.  As root the cluster belongs to the ``postgres`` OS user
(initdb refuses root).  ``PG_SKIP_REASON`` says why it cannot run here (None
when it can): missing server binaries, psycopg, or the PostGIS extension.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path


def pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


PG_BIN = pg_bin()


def _postgis_available() -> bool:
    return bool(glob.glob("/usr/share/postgresql/*/extension/postgis.control"))


if PG_BIN is None:
    PG_SKIP_REASON: str | None = "PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql"
elif importlib.util.find_spec("psycopg") is None:
    PG_SKIP_REASON = "psycopg not installed: pip install 'psycopg[binary]'"
else:
    PG_SKIP_REASON = None
POSTGIS_SKIP_REASON: str | None = PG_SKIP_REASON or (
    None if _postgis_available() else "PostGIS extension not installed: apt-get install postgresql-15-postgis-3"
)


def _as_owner(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextlib.contextmanager
def start_postgres(root: Path) -> Iterator[str]:
    """Start a throwaway cluster under ``root``; yield ``postgresql://ecozone@127.0.0.1:PORT/postgres``."""
    assert PG_BIN is not None, PG_SKIP_REASON
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    user = None
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")  # KeyError: no OS user to own the cluster
        user = "postgres"
        root.chmod(0o755)
        for d in root.parents:  # let the server user traverse to its directory (pytest-xdist nests one level more)
            if d.stat().st_mode & 0o001:
                break  # from here up the tree is open already (/tmp, /)
            d.chmod(d.stat().st_mode | 0o011)
        os.chown(sock, pw.pw_uid, pw.pw_gid)
        data.mkdir()
        os.chown(data, pw.pw_uid, pw.pw_gid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_owner([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "ecozone", "--no-sync", "-E", "UTF8"], user), check=True, capture_output=True)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(sock / "server.log"), "-w", "start"], user), check=True, capture_output=True)
    try:
        yield f"postgresql://ecozone@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user), check=False, capture_output=True)


def fresh_database(url: str) -> str:
    """Create a new, empty database in the throwaway cluster at ``url``; return its URL (tests never share tables)."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"
