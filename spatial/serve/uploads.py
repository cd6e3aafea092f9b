"""Uploads that cannot hurt the server: a body-size limit, safe zip extraction, content sniffing.

A client's file name is shown back to the user but never used as a path:
every upload is stored as ``u<N>.<ext>``, where ``<ext>`` comes from the
*content* (magic bytes, then parsing), not from the name.  Zip members are
renamed the same way; only a zoning package keeps its member names (its
manifest refers to them), and only after each name has passed a strict check.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from fastapi import HTTPException

from spatial.coordfile import is_coordfile
from spatial.errors import InputError
from spatial.io import detect_text_encoding

__all__ = [
    "BodyLimitMiddleware",
    "SavedInput",
    "safe_extract",
    "sniff",
    "save_upload",
    "display_name",
    "KIND_ZH",
]

#: Content kinds and how the pages name them.
KIND_ZH = {
    "gpkg": "GeoPackage",
    "xlsx": "Excel 表格",
    "xls": "Excel 97 表格",
    "csv": "CSV 表格",
    "coordfile": "界址点坐标文件",
    "geojson": "GeoJSON",
    "kml": "KML",
    "shp": "Shapefile",
    "dxf": "DXF 图形",
    "zip": "ZIP 压缩包",
    "kmz": "KMZ",
}
_EXT = {"gpkg": ".gpkg", "xlsx": ".xlsx", "xls": ".xls", "csv": ".csv", "coordfile": ".txt", "geojson": ".geojson", "kml": ".kml", "dxf": ".dxf", "zip": ".zip"}
#: Shapefile parts kept from a zip (everything else of a shapefile is irrelevant).
_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
#: A zoning package's member names: letters, digits, CJK, space, . _ - ( ) and path separators only.
_SAFE_PART = re.compile(r"^[\w\u4e00-\u9fff\u3400-\u4dbf .()（）\-]{1,120}$")
_CHUNK = 1 << 20


@dataclass
class SavedInput:
    """One stored input: what the user called it and what it is.

    Parameters
    ----------
    display : str
        The client's file name, cleaned for display (never a path).
    path : str
        Where it is stored, relative to the job folder.
    kind : str
        Content kind (:data:`KIND_ZH` keys).
    sha256 : str
        Hash of the uploaded bytes (the zip itself for zip members' parent).
    bytes : int
        Size uploaded.
    """

    display: str
    path: str
    kind: str
    sha256: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-able dict."""
        return asdict(self)


def display_name(name: str | None, fallback: str = "上传文件") -> str:
    """Clean a client-supplied file name for display: last path part, no control characters.

    Parameters
    ----------
    name : str or None
        As sent by the browser or script.
    fallback : str
        Used when nothing printable is left.

    Returns
    -------
    str
        At most 120 characters.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:120] or fallback


# --------------------------------------------------------------------------- body limit


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413, before or while they stream in.

    A declared ``Content-Length`` over the limit is refused at once; a body
    that grows past it (chunked uploads) raises a 413 ``HTTPException`` from
    ``receive``, which FastAPI lets through its body parser and the app's
    error handler turns into a 413 page or JSON.

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    limit : int
        Maximum body size in bytes.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Check the declared length, then count the streamed bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_413(scope, send, self.limit)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, "\n".join(_too_large_text(self.limit)))
            return message

        await self.app(scope, limited, send)


def _too_large_text(limit: int) -> tuple[str, str]:
    mb = limit / (1024 * 1024)
    return (
        f"上传内容超过 {mb:g} MB 的上限。请分批上传，或请管理员用 --max-upload-mb 调高上限。",
        f"upload larger than the {mb:g} MB limit; split it or ask the operator to raise --max-upload-mb",
    )


async def _send_413(scope: dict[str, Any], send: Callable[[dict[str, Any]], Awaitable[None]], limit: int) -> None:
    zh, en = _too_large_text(limit)
    wants_json = scope.get("path", "").startswith("/api/") or b"application/json" in dict(scope.get("headers") or []).get(b"accept", b"")
    if wants_json:
        body = json.dumps({"error": zh, "detail": en}, ensure_ascii=False).encode()
        ctype = b"application/json"
    else:
        body = f"<!doctype html><meta charset='utf-8'><title>文件过大</title><h1>文件过大</h1><p>{zh}</p><p><a href='/'>返回</a></p>".encode()
        ctype = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- zip


def _member_parts(name: str) -> list[str]:
    return [p for p in re.split(r"[\\/]+", name) if p not in ("", ".")]


def safe_extract(
    archive: Path,
    dest: Path,
    *,
    max_bytes: int,
    max_files: int,
    keep_names: bool = False,
    label: str = "",
) -> list[tuple[str, Path]]:
    """Extract a zip with every known zip attack refused.

    Refused (the whole archive, naming the member): absolute paths, drive
    letters, ``..`` parts, symlinks, more than ``max_files`` files, more than
    ``max_bytes`` uncompressed (declared *or* actually read: headers can lie),
    and, with ``keep_names``, names with characters outside a safe set.

    Parameters
    ----------
    archive : Path
        The zip file.
    dest : Path
        Empty folder to extract into.
    max_bytes, max_files : int
        Caps on total uncompressed size and file count.
    keep_names : bool, default False
        Keep the (checked) member names; otherwise files are renamed
        ``m<N><ext>``, shapefile parts sharing their ``m<N>`` stem.
    label : str
        The archive's display name for messages.

    Returns
    -------
    list of (str, Path)
        Each extracted file's member name (for display) and its path.

    Raises
    ------
    InputError
        Not a zip, or refused for one of the reasons above.
    """
    label = label or archive.name
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{label} 不是有效的 ZIP 压缩包：{exc}", f"{label} is not a valid zip: {exc}") from exc
    out: list[tuple[str, Path]] = []
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        infos = [i for i in infos if not _member_parts(i.filename)[:1] == ["__MACOSX"]]
        if len(infos) > max_files:
            raise InputError(
                f"{label} 含 {len(infos)} 个文件，超过上限 {max_files}，已拒绝（疑似压缩炸弹）。",
                f"{label} holds {len(infos)} files, over the limit of {max_files} (zip bomb?)",
            )
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise InputError(
                f"{label} 解压后 {declared / 2**20:,.0f} MB，超过上限 {max_bytes / 2**20:,.0f} MB，已拒绝（疑似压缩炸弹）。",
                f"{label} expands to {declared / 2**20:,.0f} MB, over the {max_bytes / 2**20:,.0f} MB limit (zip bomb?)",
            )
        stems: dict[tuple[str, str], int] = {}
        planned: list[tuple[zipfile.ZipInfo, Path]] = []
        taken: dict[str, str] = {}  # target, case-folded -> member (a.csv and A.CSV are one file on Windows/macOS)
        for info in infos:
            name = info.filename
            parts = _member_parts(name)
            mode = info.external_attr >> 16
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts or not parts:
                raise InputError(
                    f"{label} 中的条目“{display_name(name)}”指向压缩包之外（绝对路径或 ..），已拒绝整个压缩包。",
                    f"{label}: member {name!r} points outside the archive (absolute path or ..); archive refused",
                )
            if stat.S_ISLNK(mode):
                raise InputError(
                    f"{label} 中的条目“{display_name(name)}”是符号链接，已拒绝整个压缩包。",
                    f"{label}: member {name!r} is a symbolic link; archive refused",
                )
            if keep_names:
                if not all(_SAFE_PART.match(p) and not p.startswith(".") for p in parts):
                    raise InputError(
                        f"{label} 中的条目“{display_name(name)}”含不允许的字符，请改用字母、数字或汉字命名。",
                        f"{label}: member {name!r} has characters that are not allowed in a package path",
                    )
                target = dest.joinpath(*parts)
            else:
                suffix = PurePosixPath(parts[-1]).suffix.lower()
                suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"
                key = ("/".join(parts[:-1]).lower(), PurePosixPath(parts[-1]).stem.lower() if suffix in _SHP_PARTS else parts[-1].lower())
                idx = stems.setdefault(key, len(stems) + 1)
                target = dest / f"m{idx:04d}{suffix}"
            resolved = target.resolve()
            if not resolved.is_relative_to(dest.resolve()):
                raise InputError(f"{label} 中的条目“{display_name(name)}”路径无效。", f"{label}: invalid member path {name!r}")
            folded = target.as_posix().casefold() if keep_names else "/".join(parts).casefold()
            if folded in taken:
                raise InputError(
                    f"{label} 中的条目“{display_name(taken[folded])}”和“{display_name(name)}”只差大小写，在 Windows 上是同一个文件；请改名后重新打包。",
                    f"{label}: members {taken[folded]!r} and {name!r} differ only in case (one file on Windows); rename one and zip again",
                )
            taken[folded] = name
            planned.append((info, target))
        total = 0
        for info, target in planned:
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "xb") as dst:
                written = 0
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    total += len(chunk)
                    if written > info.file_size or total > max_bytes:
                        raise InputError(
                            f"{label} 的实际解压大小超过声明或上限，已拒绝（疑似压缩炸弹）。",
                            f"{label}: actual uncompressed size exceeds the declared size or the limit (zip bomb?)",
                        )
                    dst.write(chunk)
            out.append((info.filename, target))
    return out


# --------------------------------------------------------------------------- sniffing


def sniff(path: Path, label: str = "") -> str:
    """Tell what a file is from its content.

    Parameters
    ----------
    path : Path
        Stored upload.
    label : str
        Display name for messages.

    Returns
    -------
    str
        A :data:`KIND_ZH` key.

    Raises
    ------
    InputError
        When the content is none of the accepted kinds.
    """
    label = label or path.name
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise InputError(f"{label} 是空文件。", f"{label} is empty")
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"\x00\x00\x27\x0a"):
        return "shp"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n.lower() for n in zf.namelist()]
        except zipfile.BadZipFile as exc:
            raise InputError(f"{label} 看似 ZIP 但已损坏：{exc}", f"{label} looks like a zip but is damaged: {exc}") from exc
        if "[content_types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.endswith(".kml") for n in names) and not any(n.endswith(".shp") for n in names):
            return "kmz"
        return "zip"
    if b"\x00" in head[:4096]:
        raise InputError(
            f"{label} 的内容无法识别（不是表格、坐标文件、GeoPackage、Shapefile、GeoJSON、KML/KMZ 或 DXF）。",
            f"{label}: unrecognised content (not a table, coordinate file, GeoPackage, Shapefile, GeoJSON, KML/KMZ or DXF)",
        )
    text = head.decode(detect_text_encoding(head), errors="replace").lstrip("\ufeff \t\r\n")
    if is_coordfile(path):  # before JSON: its first line is "[属性描述]"
        return "coordfile"
    if text.startswith(("{", "[")):
        try:
            doc = json.loads(path.read_bytes().decode(detect_text_encoding(path.read_bytes()[:1 << 20])).lstrip("\ufeff"))
        except ValueError as exc:
            raise InputError(f"{label} 像 JSON 但无法解析：{exc}", f"{label} looks like JSON but does not parse: {exc}") from exc
        if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature", "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"):
            return "geojson"
        raise InputError(f"{label} 是 JSON 但不是 GeoJSON。", f"{label} is JSON but not GeoJSON")
    if text.startswith("<"):
        if re.search(r"<kml[\s>]", text[:4096], re.IGNORECASE):
            return "kml"
        raise InputError(f"{label} 是 XML/HTML 但不是 KML。", f"{label} is XML/HTML but not KML")
    lines = [ln.strip() for ln in text.splitlines()[:4] if ln.strip()]
    if len(lines) >= 2 and lines[0] == "0" and lines[1].upper() == "SECTION":
        return "dxf"
    return "csv"


def _copy_hashed(src: BinaryIO, dest: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with open(dest, "xb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            n += len(chunk)
            out.write(chunk)
    return h.hexdigest(), n


def save_upload(
    src: BinaryIO,
    client_name: str | None,
    folder: Path,
    index: int,
    *,
    max_unzip_bytes: int,
    max_unzip_files: int,
) -> list[SavedInput]:
    """Store one uploaded sites file under a safe name; expand zips and KMZ.

    Parameters
    ----------
    src : binary file
        The upload.
    client_name : str or None
        Its name as the client sent it (display only).
    folder : Path
        The job's input folder.
    index : int
        Upload number (names ``u<index>…``).
    max_unzip_bytes, max_unzip_files : int
        Zip caps (:func:`safe_extract`).

    Returns
    -------
    list of SavedInput
        One per sites file found (a zip may hold several; shapefile side
        files are not listed).

    Raises
    ------
    InputError
        Unrecognised content or a refused zip.
    """
    shown = display_name(client_name)
    raw = folder / f"u{index:02d}.upload"
    sha, size = _copy_hashed(src, raw)
    kind = sniff(raw, shown)
    if kind not in ("zip", "kmz"):
        final = raw.with_suffix(_EXT.get(kind, ".bin"))
        raw.rename(final)
        return [SavedInput(shown, final.name, kind, sha, size)]
    sub = folder / f"u{index:02d}"
    sub.mkdir()
    members = safe_extract(raw, sub, max_bytes=max_unzip_bytes, max_files=max_unzip_files, label=shown)
    raw.unlink()
    found: list[SavedInput] = []
    for member, path in members:
        if path.suffix in _SHP_PARTS[1:] or path.suffix in (".bin",) and path.stat().st_size == 0:
            continue
        label = "/".join([shown, *(display_name(p) for p in _member_parts(member))])
        try:
            k = sniff(path, label)
        except InputError:
            continue  # readme files, images … inside a zip are not sites
        if k in ("zip", "kmz"):
            continue  # no nested archives
        final = path if path.suffix == _EXT.get(k, ".shp") else path.with_suffix(_EXT.get(k, ".shp"))
        if final != path:
            path.rename(final)
        found.append(SavedInput(label, final.relative_to(folder).as_posix(), k, sha, size))
    if not found:
        raise InputError(
            f"{shown} 中没有可读取的地块文件（Shapefile、KML、GeoJSON、GeoPackage、CSV/XLSX、坐标文件或 DXF）。",
            f"{shown} holds no readable sites file",
        )
    return found


def remove_tree(path: Path) -> None:
    """Delete a folder of stored uploads (ignore what is already gone)."""
    shutil.rmtree(path, ignore_errors=True)
