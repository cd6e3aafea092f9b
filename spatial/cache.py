"""A disk cache of loaded zoning packages, so the second run skips the preparation.

Loading a province's zoning (reading, normalising fields and values,
reprojecting and repairing tens of thousands of polygons with millions of
vertices) takes longer than screening a county's sites against it.  The
result of :func:`spatial.zoning.load_zoning` depends only on the input files,
the working-CRS override and the code that loads them, so it is stored once
as GeoParquet and read back on the next run.

Key
    SHA-256 over: the cache format, the ecozone version, a hash of the loader's
    own source files (``spatial/zoning.py``, ``io.py``, ``crs.py``,
    ``geometry.py`` and ``layers/``: a code change invalidates old entries even
    without a version bump), the working-CRS override, and every input file's
    name, size and SHA-256 (GeoPackage, manifest, each file a manifest or
    folder points to, with Shapefile side-cars).  Any change to any input
    gives a new key; nothing is ever served for changed inputs.  The loaded
    package's own :attr:`Zoning.content_hash` is stored and checked too.
    Rules are not part of the key: the cached layers do not depend on them
    (unit ban lists are re-parsed per rule catalogue in well under a second).

Where
    ``$ECOZONE_CACHE_DIR`` or ``~/.cache/ecozone``; one folder per key holding
    ``<layer>.parquet`` files and ``meta.json``.  The newest
    ``$ECOZONE_CACHE_MAX`` (default 8) entries are kept.

Safety
    Entries are written to a temporary folder and renamed into place (a crash
    leaves no half entry); an unreadable or inconsistent entry is deleted and
    rebuilt; ``use_cache=False`` (``ecozone screen --no-cache``) bypasses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial._version import __version__
from spatial.io import file_sha256
from spatial.pgzoning import is_db_url
from spatial.zoning import LayerSource, Zoning, demo_zoning_path, load_zoning

__all__ = [
    "load_zoning_cached", "cache_root", "cache_key", "clear_cache", "cache_entry_of", "read_entry", "CACHE_FORMAT",
    "scrub_warnings", "replay_warnings",
]

#: Bump when the on-disk layout changes.
CACHE_FORMAT = 2  # 2: entries hold no paths
_CODE_FILES = ("spatial/zoning.py", "spatial/io.py", "spatial/crs.py", "spatial/geometry.py", "spatial/_version.py")
_META = "meta.json"
_NAN = "__ecozone_nan__"


def _encode(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Make object columns Parquet-safe and exactly restorable.

    Normalised layers keep some text columns as plain objects mixing str,
    None and NaN; Parquet has one null, so NaN positions go in a side column.
    """
    out = gdf.copy(deep=False)
    objcols = []
    for c in gdf.columns:
        if c == gdf.geometry.name or gdf[c].dtype != object:
            continue
        vals = gdf[c].to_numpy()
        is_str = np.fromiter((isinstance(v, str) for v in vals), bool, len(vals))
        is_nan = np.fromiter((isinstance(v, float) and v != v for v in vals), bool, len(vals))
        is_none = np.fromiter((v is None for v in vals), bool, len(vals))
        if not (is_str | is_nan | is_none).all():
            raise TypeError(f"column {c} holds values other than text: not cacheable")
        out[c] = pd.Series(np.where(is_str, vals, None), index=gdf.index, dtype=object)
        out[_NAN + c] = is_nan
        objcols.append(c)
    return out, objcols


def _decode(gdf: gpd.GeoDataFrame, objcols: list[str], columns: list[str]) -> gpd.GeoDataFrame:
    """Undo :func:`_encode`."""
    for c in objcols:
        vals = gdf[c].to_numpy(dtype=object)
        vals = np.where(pd.isna(vals), None, vals)
        vals[gdf[_NAN + c].to_numpy(bool)] = np.nan
        gdf[c] = pd.Series(vals, index=gdf.index, dtype=object)
    return gdf[columns]


def cache_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache folder: ``root``, ``$ECOZONE_CACHE_DIR`` or ``~/.cache/ecozone``.

    Parameters
    ----------
    root : path-like, optional
        Explicit folder.

    Returns
    -------
    Path
        The folder (not created).
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("ECOZONE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ecozone"


def _code_hash() -> str:
    """Hash of the source of everything that shapes a loaded zoning."""
    here = Path(__file__).resolve().parent
    files = [here.parent / f for f in _CODE_FILES] + sorted((here.parent / "layers").glob("*.py"))
    h = hashlib.sha256()
    for f in files:
        if f.exists():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _input_files(path: Path) -> list[Path]:
    """Every file whose bytes shape the loaded zoning (package, manifest targets, side-cars)."""
    from spatial.zoning import package_entries  # the loader's own resolution of a package

    files = {path.resolve()} if path.is_file() else set()
    for entry in package_entries(path).values():
        p = Path(entry["path"]).resolve()
        files.add(p)
        if p.suffix.lower() == ".shp":  # attributes, CRS and encoding live next to it
            files.update(q.resolve() for q in p.parent.glob(p.stem + ".*") if q.is_file())
        if isinstance(entry.get("coverage"), Path) and entry["coverage"].is_file():  # a layer's stated coverage polygon
            files.add(entry["coverage"].resolve())
    return sorted(files)


def cache_key(path: str | os.PathLike[str] | None = None, *, working_crs: str | CRS | None = None) -> str:
    """Return the cache key of a zoning package (hashes every input file).

    Parameters
    ----------
    path : path-like, optional
        Package (default: the bundled demo).
    working_crs : str or CRS, optional
        Working-CRS override passed to the loader.

    Returns
    -------
    str
        Hex digest.
    """
    path = Path(path) if path is not None else demo_zoning_path()
    parts: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "version": __version__,
        "code": _code_hash(),
        "working_crs": CRS.from_user_input(working_crs).to_wkt() if working_crs is not None else None,
        "package": path.name,
        "files": [[f.name, f.stat().st_size, file_sha256(f)] for f in _input_files(path)],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def clear_cache(root: str | os.PathLike[str] | None = None) -> int:
    """Delete every cache entry.

    Parameters
    ----------
    root : path-like, optional
        Cache folder (default :func:`cache_root`).

    Returns
    -------
    int
        Number of entries removed.
    """
    folder = cache_root(root)
    n = 0
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                n += 1
    return n


def _load_recording(path: Path, working_crs: str | CRS | None) -> tuple[Zoning, list[dict[str, str]]]:
    """Load, passing warnings on as usual but also returning them (a cache hit replays them)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zoning = load_zoning(path, working_crs=working_crs)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return zoning, [{"category": w.category.__name__, "message": str(w.message)} for w in caught]


#: Stands for the package's folder inside cached warning texts (the folder differs per reader).
_PKG_DIR = "\x00package-folder\x00"


def _folders(zoning: Zoning) -> list[str]:
    """Folders of the package and its files, longest first, as they may appear in messages."""
    dirs = {str(Path(s.path).parent) for s in zoning.sources} | {str(Path(s.path).resolve().parent) for s in zoning.sources}
    if zoning.path is not None:
        dirs |= {str(Path(zoning.path).parent), str(Path(zoning.path).resolve().parent)}
    return sorted((d for d in dirs if d not in ("", ".")), key=len, reverse=True)


def scrub_warnings(records: list[dict[str, str]], folders: list[str]) -> list[dict[str, str]]:
    """Replace the writer's folders in warning texts by a placeholder (entries never hold paths).

    Parameters
    ----------
    records : list of dict
        Warnings as ``{"category": ..., "message": ...}``.
    folders : list of str
        Folders to hide, longest first.

    Returns
    -------
    list of dict
        The same records with every folder replaced by a placeholder.
    """
    out = []
    for rec in records:
        msg = rec.get("message", "")
        for d in folders:
            msg = msg.replace(d, _PKG_DIR)
        out.append({**rec, "message": msg})
    return out


def replay_warnings(records: list[dict[str, str]], folder: Path | None = None) -> None:
    """Re-issue the data warnings the original load gave (repairs, dropped parts ...).

    Parameters
    ----------
    records : list of dict
        Warnings stored by :func:`scrub_warnings`.
    folder : Path, optional
        The reader's folder, put back where the placeholder stands.
    """
    from spatial import errors

    for rec in records:
        category = getattr(errors, rec.get("category", ""), None)
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = UserWarning
        warnings.warn(rec.get("message", "").replace(_PKG_DIR, str(folder) if folder is not None else "."), category, stacklevel=3)


def _write(zoning: Zoning, key: str, root: Path, warned: list[dict[str, str]]) -> Path:
    """Write an entry atomically: a temporary sibling folder renamed into place."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / key
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.", suffix=".part", dir=root))
    try:
        layers = []
        for i, (name, gdf) in enumerate(zoning.layers.items()):
            fname = f"{i:02d}.parquet"  # layer names may be any text (extra layers): keep file names plain
            encoded, objcols = _encode(gdf)
            encoded.to_parquet(tmp / fname, index=True)
            layers.append({"name": name, "file": fname, "n": len(gdf), "columns": list(gdf.columns), "object_columns": objcols})
        meta = {
            "format": CACHE_FORMAT,
            "key": key,
            "ecozone_version": __version__,
            "crs": zoning.crs.to_wkt(),
            # No paths: the cache may be shared by several installations and users; a hit
            # takes the paths from the package the reader named (see _rebase).
            "layers": layers,
            "sources": [dict(dataclasses.asdict(s), path=Path(s.path).name) for s in zoning.sources],
            "content_hash": zoning.content_hash,
            "coverage": {name: shapely.to_wkb(g, hex=True) for name, g in zoning.coverage.items()},
            "warnings": scrub_warnings(warned, _folders(zoning)),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            os.rename(tmp, final)
        except OSError:  # another process wrote the same entry first: theirs is as good
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _read(entry: Path, key: str) -> tuple[Zoning, list[dict[str, str]]]:
    """Read an entry, checking it is complete and consistent (raises on any doubt)."""
    meta = json.loads((entry / _META).read_text(encoding="utf-8"))
    if meta.get("format") != CACHE_FORMAT or meta.get("key") != key:
        raise ValueError("cache entry format/key mismatch")
    crs = CRS.from_wkt(meta["crs"])
    layers: dict[str, gpd.GeoDataFrame] = {}
    for lay in meta["layers"]:
        gdf = _decode(gpd.read_parquet(entry / lay["file"]), lay["object_columns"], lay["columns"])
        if len(gdf) != lay["n"]:
            raise ValueError(f"cache layer {lay['name']} has {len(gdf)} rows, expected {lay['n']}")
        layers[lay["name"]] = gdf.set_crs(crs, allow_override=True)
    known = {f.name for f in dataclasses.fields(LayerSource)}
    sources = [LayerSource(**{k: v for k, v in s.items() if k in known}) for s in meta["sources"]]
    coverage = {name: shapely.from_wkb(g) for name, g in (meta.get("coverage") or {}).items()}
    zoning = Zoning(layers=layers, crs=crs, sources=sources, path=None, coverage=coverage)
    if zoning.content_hash != meta["content_hash"]:
        raise ValueError("cache entry content hash mismatch")
    return zoning, list(meta.get("warnings", []))


def read_entry(entry: str | os.PathLike[str], key: str) -> Zoning:
    """Read a cache entry directly (e.g. on a Dask worker sharing the cache folder).

    Parameters
    ----------
    entry : path-like
        The entry folder.
    key : str
        Its key (checked against the entry's metadata).

    Returns
    -------
    Zoning
        The cached zoning (raises if the entry is missing or inconsistent).
    """
    return _read(Path(entry), key)[0]


def cache_entry_of(zoning: Zoning) -> tuple[str, str] | None:
    """Return the ``(entry folder, key)`` a zoning was loaded from or stored to, if any.

    Parameters
    ----------
    zoning : Zoning
        A zoning returned by :func:`load_zoning_cached`.

    Returns
    -------
    tuple of str or None
        Folder and key, or None when it did not pass through the cache.
    """
    return getattr(zoning, "_ecozone_cache_entry", None)


def _rebase(zoning: Zoning, path: Path) -> Zoning:
    """Give a cached zoning the paths of the package this caller named, never those of the writer."""
    from spatial.zoning import package_entries  # the loader's own resolution of a package

    entries = package_entries(path)
    for s in zoning.sources:
        if s.layer in entries:
            s.path = str(entries[s.layer]["path"])
    zoning.path = path
    return zoning


def _mark(zoning: Zoning, entry: Path, key: str) -> Zoning:
    """Remember where a zoning is cached (lets Dask workers read it instead of receiving it)."""
    zoning._ecozone_cache_entry = (str(entry), key)  # type: ignore[attr-defined]
    return zoning


def _prune(root: Path, keep: int) -> None:
    """Keep the ``keep`` most recently used entries."""
    entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def load_zoning_cached(
    path: str | os.PathLike[str] | None = None,
    *,
    working_crs: str | CRS | None = None,
    use_cache: bool = True,
    root: str | os.PathLike[str] | None = None,
    info: dict[str, Any] | None = None,
) -> Zoning:
    """:func:`spatial.zoning.load_zoning` through the disk cache.

    Parameters
    ----------
    path : path-like, optional
        Zoning package (default: the bundled demo).
    working_crs : str or CRS, optional
        Working-CRS override.
    use_cache : bool, default True
        False: load directly and leave the cache alone.
    root : path-like, optional
        Cache folder (default :func:`cache_root`).
    info : dict, optional
        Filled with ``status`` (``hit``, ``miss``, ``rebuilt``, ``off``,
        ``error``), ``key``, ``entry`` and ``seconds``.

    Returns
    -------
    Zoning
        The same layers, CRS and sources :func:`load_zoning` returns.
    """
    t0 = time.perf_counter()
    info = {} if info is None else info
    if is_db_url(path):  # the database is the store: no file bytes to key a cache entry on
        info.update(status="database")
        zoning = load_zoning(path, working_crs=working_crs)
        info["seconds"] = round(time.perf_counter() - t0, 3)
        return zoning
    path = Path(path) if path is not None else demo_zoning_path()
    if not use_cache:
        info.update(status="off")
        zoning = load_zoning(path, working_crs=working_crs)
        info["seconds"] = round(time.perf_counter() - t0, 3)
        return zoning
    try:
        key = cache_key(path, working_crs=working_crs)
    except Exception:  # noqa: BLE001 - unreadable package: let the loader raise its own, better error
        info.update(status="off")
        return load_zoning(path, working_crs=working_crs)
    folder = cache_root(root)
    entry = folder / key
    info.update(key=key, entry=str(entry))
    status = "miss"
    if entry.is_dir():
        try:
            zoning, warned = _read(entry, key)
        except Exception:  # noqa: BLE001 - any doubt about an entry: drop it and rebuild
            shutil.rmtree(entry, ignore_errors=True)
            status = "rebuilt"
        else:
            os.utime(entry)  # recently used: survives pruning
            info.update(status="hit", seconds=round(time.perf_counter() - t0, 3))
            replay_warnings(warned, path.parent)
            return _mark(_rebase(zoning, path), entry, key)
    zoning, warned = _load_recording(path, working_crs)
    try:
        _mark(zoning, _write(zoning, key, folder, warned), key)
        _prune(folder, max(1, int(os.environ.get("ECOZONE_CACHE_MAX", "8"))))
    except (OSError, TypeError, ValueError) as exc:  # read-only/full disk, odd columns: screening still works, uncached
        status = "error"
        info["error"] = str(exc)
    info.update(status=status, seconds=round(time.perf_counter() - t0, 3))
    return zoning
