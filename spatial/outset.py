"""An output set is one unit: staged, locked, swapped in whole, traceable.

A command that writes several files (``screen``, ``demo``, ``indicators``,
``diff``, ``validate``) runs inside :func:`output_set`:

1. a lock beside ``--out`` is taken at once; a second run on the same
   ``--out`` fails immediately (exit 2) and touches nothing;
2. ``--out`` is checked: not an existing file, holding no input of the run
   (an input inside the set would be replaced or deleted with it), and not
   holding an earlier set unless ``--force`` was given;
3. the writers write into a staging directory next to ``--out`` (same file
   system, so the final move is a rename);
4. on success ``run.json`` (run id, command line, input hashes, start and end,
   version, every file with its hash) is added and the staging directory is
   swapped in with one atomic exchange.  The previous set is deleted only
   after that; files in ``--out`` that no ecozone set wrote (a planner's own
   notes) are carried over, never lost;
5. on failure or Ctrl-C the staging directory is removed and the previous
   set stays exactly as it was.

Single-file outputs (``map``, ``convert``) use :func:`single_output`: the same
lock and input protection around :func:`spatial.io.atomic_output`.

The transaction knows nothing about the files' names or formats: writers
write into :attr:`OutputSet.staging` as they would into ``--out``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shlex
import shutil
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from spatial._version import __version__
from spatial.errors import EcozoneError, InputError, OutputExistsError
from spatial.io import file_sha256
from spatial.output import FILES

__all__ = ["OutputSet", "output_set", "single_output", "locked", "OutputLockedError", "RUN_FILE", "LEGACY_OUTPUT_NAMES"]

#: The record every set carries.
RUN_FILE = "run.json"
#: Outputs of ecozone versions that wrote no run.json: treated as the previous set under --force.
LEGACY_OUTPUT_NAMES = tuple(f.name for f in FILES.values())


class OutputLockedError(EcozoneError, BlockingIOError):
    """Another ecozone run holds the lock of this output."""


@dataclass
class OutputSet:
    """The staging side of a running output set.

    Attributes
    ----------
    out : Path
        The final ``--out`` directory.
    staging : Path
        Where the writers write (swapped in as ``out`` on success).
    run_id : str
        Unique id of this run (also in ``run.json``).
    started : datetime
        Start time.
    inputs : list of dict
        Input files with their hashes.
    """

    out: Path
    staging: Path
    run_id: str
    started: datetime
    command: list[str]
    inputs: list[dict[str, object]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    #: More facts for ``run.json`` (e.g. the access lists read and the corrections applied).
    record: dict[str, object] = field(default_factory=dict)

    def final(self, path: str | os.PathLike[str]) -> Path:
        """Return where a file written in the staging directory ends up.

        Parameters
        ----------
        path : path-like
            A path inside :attr:`staging`.

        Returns
        -------
        Path
            The same relative path under :attr:`out`.
        """
        p = Path(path)
        try:
            return self.out / p.relative_to(self.staging)
        except ValueError:
            return p


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.ecozone-lock"


@contextlib.contextmanager
def locked(target: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock for ``target`` (a file beside it).

    The lock is an ``flock`` on a small file: the kernel releases it when the
    process dies, so a killed run never leaves a stale lock behind.
    """
    path = _lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: an exclusive create is the lock
        fcntl = None
    while True:
        if fcntl is None:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                raise _locked_error(target, path) from None
            break
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise _locked_error(target, path) from None
            raise
        # The holder before us may have unlinked the file after we opened it: lock the live one.
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _locked_error(target: Path, lock: Path) -> OutputLockedError:
    return OutputLockedError(
        f"另一个 ecozone 进程正在写入 {target}（锁文件 {lock.name}）。请等它结束，或换一个 --out。本次运行未改动任何文件。",
        f"another ecozone run is writing {target} (lock {lock.name}); wait for it or choose another --out. Nothing was changed",
    )


def _resolve(p: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.fspath(p)))


def _files_below(root: Path, limit: int = 100_000) -> Iterator[Path]:
    for i, p in enumerate(root.rglob("*")):
        if i >= limit:
            return
        if p.is_file() and not p.is_symlink():
            yield p


def _input_files(inputs: Iterable[str | os.PathLike[str] | None]) -> list[Path]:
    """List the input files of a run (a folder input contributes the files in it)."""
    out: list[Path] = []
    for p in inputs:
        if p is None:
            continue
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(_files_below(path, 10_000)))
        elif path.exists():
            out.append(path)
    return out


def _inode(p: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def check_not_input(target: Path, inputs: Sequence[str | os.PathLike[str] | None], *, is_dir: bool) -> None:
    """Refuse when writing ``target`` would replace or delete an input of the run.

    Symlinks are resolved and inodes compared, so a hard link or a symlinked
    folder is caught as well.

    Parameters
    ----------
    target : Path
        The output directory (``is_dir``) or output file.
    inputs : sequence of path-like
        The run's input files and folders.
    is_dir : bool
        Whether ``target`` is a directory replaced as a whole.

    Raises
    ------
    InputError
        Naming the input and the fix.
    """
    real = _resolve(target)
    inside: list[str] = []
    for p in inputs:
        if p is None or not Path(p).exists():
            continue
        rp = _resolve(p)
        if rp == real or (is_dir and real in rp.parents):
            inside.append(str(p))
    if not inside and real.exists():
        ours = {_inode(f) for f in (_files_below(real) if real.is_dir() else [real])} - {None}
        if ours:
            inside = [str(f) for f in _input_files(inputs) if _inode(f) in ours]
    if inside:
        where = f"输出目录 {target}" if is_dir else f"输出文件 {target}"
        fix = f"请换一个输出位置，如 --out {target / 'ecozone_out'}" if is_dir else "请换一个输出文件名"
        raise InputError(
            f"{where} 会覆盖或删除输入文件：{'、'.join(inside[:5])}。ecozone 从不改动输入（--force 也不行）。{fix}。",
            f"{'output folder' if is_dir else 'output file'} {target} would replace or delete input(s): "
            f"{', '.join(inside[:5])}; inputs are never overwritten, even with --force. Choose another output location",
        )


def _hash_inputs(files: list[Path]) -> list[dict[str, object]]:
    out = []
    for f in files:
        try:
            out.append({"path": str(f), "sha256": file_sha256(f), "bytes": f.stat().st_size})
        except OSError:
            continue
    return out


def _previous_set(out: Path) -> set[str] | None:
    """Return the relative paths of the files the previous set wrote (None when ``out`` holds no set)."""
    record = out / RUN_FILE
    if record.is_file():
        try:
            files = json.loads(record.read_text(encoding="utf-8")).get("files", [])
            return {RUN_FILE, *(str(f["name"]) for f in files)}
        except (ValueError, KeyError, TypeError, AttributeError):
            return {RUN_FILE}
    legacy = {n for n in LEGACY_OUTPUT_NAMES if (out / n).exists()}
    return legacy or None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _recover(out: Path) -> None:
    """Undo what a run killed between the two renames of the fallback swap left behind.

    Called under the lock.  A set moved aside whose replacement never arrived
    goes back; leftover staging directories are removed.
    """
    parent = out.parent
    if not parent.is_dir():
        return
    for p in parent.glob(f".{out.name}.old-*"):
        if not out.exists():
            os.rename(p, out)
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p in parent.glob(f".{out.name}.staging-*"):
        shutil.rmtree(p, ignore_errors=True)


def _carry_over(out: Path, staging: Path, previous: set[str]) -> list[str]:
    """Hard-link (or copy) into staging the entries of ``out`` that no ecozone set wrote.

    Symlinks are linked as symlinks, folders recreated, so the user's own
    files survive the swap unchanged.
    """
    kept: list[str] = []
    made: list[Path] = []
    for root, dirs, files in os.walk(out):
        rel_root = Path(root).relative_to(out)
        for d in dirs:
            target = staging / rel_root / d
            if not target.exists():
                target.mkdir()
                made.append(target)
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            rel = (rel_root / name).as_posix()
            src, dst = Path(root) / name, staging / rel_root / name
            if rel in previous or dst.exists() and not dst.is_dir():
                continue
            if src.is_symlink():
                if dst.is_dir():
                    dst.rmdir()
                os.symlink(os.readlink(src), dst)
            else:
                try:
                    os.link(src, dst, follow_symlinks=False)
                except OSError:
                    shutil.copy2(src, dst)
            kept.append(rel)
    for d in reversed(made):  # a folder the previous set wrote (e.g. 附图/) and that holds nothing of the user's
        prefix = d.relative_to(staging).as_posix() + "/"
        if not any(d.iterdir()) and any(p.startswith(prefix) for p in previous):
            d.rmdir()
    return kept


def _write_record(oset: OutputSet) -> Path:
    finished = datetime.now(UTC).astimezone()
    files = [
        {"name": f.relative_to(oset.staging).as_posix(), "sha256": file_sha256(f), "bytes": f.stat().st_size}
        for f in sorted(_files_below(oset.staging))
        if f.relative_to(oset.staging).as_posix() not in set(oset.kept)
    ]
    record = {
        "run_id": oset.run_id,
        "command": oset.command,
        "command_line": shlex.join(oset.command),
        "ecozone_version": __version__,
        "started": oset.started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "inputs": oset.inputs,
        "files": files,
        "kept_from_before": oset.kept,
        **oset.record,
    }
    path = oset.staging / RUN_FILE
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@contextlib.contextmanager
def output_set(
    out: str | os.PathLike[str],
    *,
    force: bool,
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    argv: Sequence[str] | None = None,
) -> Iterator[OutputSet]:
    """Run the body as one output-set transaction (see the module docstring).

    Parameters
    ----------
    out : path-like
        The ``--out`` directory.
    force : bool
        Replace an earlier set in ``out``.
    inputs : sequence of path-like
        Input files and folders of the run (hashed into ``run.json`` and
        protected from being replaced).
    argv : sequence of str, optional
        The command line, for ``run.json``.

    Yields
    ------
    OutputSet
        Write into its :attr:`~OutputSet.staging` directory.

    Raises
    ------
    OutputLockedError
        Another run holds ``out``.
    OutputExistsError
        ``out`` is a file, or holds an earlier set and ``force`` is False.
    InputError
        ``out`` holds an input of the run.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(
            f"--out {out} 是一个已存在的文件，不是目录。请给一个目录名（不存在的目录会自动创建），如 --out {out.with_suffix('')}_out。",
            f"--out {out} is an existing file, not a folder; give a folder name (created if missing), e.g. {out.with_suffix('')}_out",
        )
    check_not_input(out, inputs, is_dir=True)
    with locked(out):
        _recover(out)
        previous = _previous_set(out) if out.is_dir() else None
        if previous and not force:
            shown = sorted(previous)[:6]
            raise OutputExistsError(
                f"输出目录 {out} 中已有上次的结果（{', '.join(shown)}）。换一个 --out，或加 --force 用本次结果整体替换上次结果。",
                f"{out} already holds an earlier output set ({', '.join(shown)}); choose another --out or pass --force to replace it as a whole",
            )
        started = datetime.now(UTC).astimezone()
        run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        staging = out.parent / f".{out.name}.staging-{run_id}"
        staging.mkdir(parents=True)
        oset = OutputSet(out, staging, run_id, started, list(argv) if argv else ["ecozone"], _hash_inputs(_input_files(inputs)))
        try:
            yield oset
            if previous:
                oset.kept = _carry_over(out, staging, previous)
            _write_record(oset)
            _commit(out, staging, run_id, swap=bool(previous), force=force)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _commit(out: Path, staging: Path, run_id: str, *, swap: bool, force: bool) -> None:
    """Put the complete staging directory in place as ``out``.

    With an earlier set in ``out`` (``swap``) the two directories are
    exchanged atomically and the earlier set deleted afterwards.  Otherwise
    ``out`` is missing or empty (renamed over), or holds only files no ecozone
    run wrote: the new files are moved in beside them, ``run.json`` last.
    """
    os.chmod(staging, 0o777 & ~_umask())  # mkdir's mode, not mkdtemp's 0700
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        os.replace(staging, out)
        return
    if not swap:
        names = sorted(staging.iterdir(), key=lambda p: p.name == RUN_FILE)
        clash = [p.name for p in names if (out / p.name).exists()]
        if clash and not force:
            raise OutputExistsError(
                f"输出目录 {out} 中已有同名文件：{', '.join(clash)}。换一个 --out，或加 --force 覆盖。",
                f"{out} already has files named {', '.join(clash)}; choose another --out or pass --force",
            )
        for p in names:
            os.replace(p, out / p.name)
        shutil.rmtree(staging, ignore_errors=True)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now the earlier set
        return
    aside = out.parent / f".{out.name}.old-{run_id}"
    os.rename(out, aside)
    os.rename(staging, out)
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def single_output(
    target: str | os.PathLike[str], *, force: bool, inputs: Sequence[str | os.PathLike[str] | None] = ()
) -> Iterator[Path]:
    """Lock and protect a one-file output (``map``, ``convert``); the writer stays atomic itself.

    Parameters
    ----------
    target : path-like
        The output file.
    force : bool
        Replace an existing output.
    inputs : sequence of path-like
        Input files and folders of the run.

    Yields
    ------
    Path
        ``target``, now locked for this run.

    Raises
    ------
    OutputLockedError, OutputExistsError, InputError
        As for :func:`output_set`.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputExistsError(
            f"输出 {target} 是一个已存在的目录，需要的是文件名，如 {target / 'map.html'}。",
            f"output {target} is an existing folder; give a file name such as {target / 'map.html'}",
        )
    check_not_input(target, inputs, is_dir=False)
    with locked(target):
        if target.exists() and not force:
            raise OutputExistsError(
                f"输出已存在：{target}。换一个输出位置，或加 --force 覆盖。",
                f"output exists: {target}; choose another location or pass --force to overwrite",
            )
        yield target
