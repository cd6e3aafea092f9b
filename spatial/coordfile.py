"""Reader for the Chinese 界址点 "坐标文件" TXT used for 用地报批 (land-use approval).

The format (国土资源部/自然资源部 报盘坐标文件) looks like::

    [属性描述]
    格式版本号=1.01版本
    坐标系=2000国家大地坐标系
    几度分带=3
    投影类型=高斯克吕格
    计量单位=米
    带号=38
    精度=0.01
    [地块坐标]
    5,0.7500,1,某某项目用地,面,,工业用地,,@
    J1,1,2713200.000,38500000.000
    J2,1,2713200.000,38500100.000
    ...

Each 地块 starts with a header line ``界址点数,地块面积(公顷),地块编号,地块名称,
记录图形属性(点/线/面),图幅号,地块用途,地类编码,@`` followed by point rows
``点号,地块圈号,X,Y``.  ``X`` is the **northing**, ``Y`` the **easting**
(surveying convention); ``Y`` usually carries the zone number as prefix
(``38500000`` = zone 38, false easting 500 000 m).  圈号 1 is the outer ring,
2, 3, ... are holes; every ring is closed by repeating its first point.

Files are usually GBK encoded (sometimes UTF-8 with or without BOM) with
CRLF line ends.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon

from spatial.errors import CoordFileWarning, CRSError, FileFormatError
from spatial.measure import ellipsoidal_area

__all__ = [
    "PLACEHOLDER_IDS",
    "EPSG_BASE",
    "is_placeholder_id",
    "AreaMismatchWarning",
    "CoordFileWarning",
    "gauss_kruger_crs",
    "is_coordfile",
    "read_coordfile",
]

#: 地块编号 values that template software writes instead of a real id.
PLACEHOLDER_IDS = re.compile(r"^\s*(|@|fid_?\d*|dkmc|dkbh|地块编号|地块名称|编号|null|none|nan|-)\s*$", re.IGNORECASE)


def is_placeholder_id(value: object) -> bool:
    """Return whether an id is missing or a template placeholder (``FID_0``, ``DKMC``, ``@``).

    Parameters
    ----------
    value : object
        An id as read.

    Returns
    -------
    bool
        True when it cannot tell one parcel from another.
    """
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(PLACEHOLDER_IDS.match(str(value)))


_SECTION_ATTR = "属性描述"
_SECTION_COORDS = "地块坐标"


class AreaMismatchWarning(CoordFileWarning):
    """The parsed polygon area differs from the 地块面积 declared in the 坐标文件."""


# --------------------------------------------------------------------------
# CRS

#: First EPSG code of each Gauss-Kruger series, with the first zone number of
#: the series (3-degree zones 25-45, 6-degree zones 13-23).  Verified against
#: the EPSG names by tests/test_coordfile.py::test_epsg_table_names.
EPSG_BASE: dict[tuple[str, int, bool], int] = {
    # (datum, zone width, zone prefix in easting) -> EPSG of first zone
    ("cgcs2000", 3, True): 4513,
    ("cgcs2000", 3, False): 4534,
    ("cgcs2000", 6, True): 4491,
    ("cgcs2000", 6, False): 4502,
    ("xian80", 3, True): 2349,
    ("xian80", 3, False): 2370,
    ("xian80", 6, True): 2327,
    ("xian80", 6, False): 2338,
    ("beijing54", 3, True): 2401,
    ("beijing54", 3, False): 2422,
    ("beijing54", 6, True): 21413,
    ("beijing54", 6, False): 21453,
}
_ZONES = {3: range(25, 46), 6: range(13, 24)}


def gauss_kruger_crs(
    datum: str, zone_width: int, zone: int, prefixed: bool
) -> pyproj.CRS:
    """Return the EPSG Gauss-Kruger CRS for a Chinese datum and zone.

    Parameters
    ----------
    datum : {"cgcs2000", "xian80", "beijing54"}
        Geodetic datum.
    zone_width : {3, 6}
        Zone width in degrees (几度分带).
    zone : int
        Zone number (带号): 25-45 for 3-degree zones, 13-23 for 6-degree zones.
    prefixed : bool
        ``True`` if eastings carry the zone number (``false easting =
        zone * 1e6 + 500000``), ``False`` for plain 500 000 m false easting.

    Returns
    -------
    pyproj.CRS
        The projected CRS.

    Raises
    ------
    spatial.errors.CRSError
        If the zone does not exist for that zone width.

    """
    if zone_width not in _ZONES:
        raise CRSError(
            f"几度分带={zone_width} 无效：只支持 3 度带或 6 度带。",
            f"Zone width {zone_width} is invalid: only 3-degree or 6-degree zones are "
            "supported.",
        )
    zones = _ZONES[zone_width]
    if zone not in zones:
        raise CRSError(
            f"带号 {zone} 与 {zone_width} 度分带不符：中国范围内 {zone_width} "
            f"度带带号应为 {zones.start}–{zones.stop - 1}。"
            "请核对坐标文件中的“带号”和“几度分带”。",
            f"Zone {zone} is inconsistent with {zone_width}-degree zones: within "
            f"China, {zone_width}-degree zone numbers "
            f"are {zones.start}-{zones.stop - 1}. Check 带号 (zone) and 几度分带 (zone "
            "width) in the coordinate file.",
        )
    return pyproj.CRS.from_epsg(
        EPSG_BASE[(datum, zone_width, prefixed)] + zone - zones.start
    )


def _datum_from_text(value: str) -> str | None:
    """Recognise the datum named by a 坐标系 value.

    Parameters
    ----------
    value : str
        The 坐标系 value, e.g. ``"2000国家大地坐标系"``.

    Returns
    -------
    str or None
        ``"cgcs2000"``, ``"xian80"``, ``"beijing54"`` or ``None``.

    """
    k = re.sub(r"[\s\-_]+", "", value).lower()
    if "2000" in k or "cgcs" in k:
        return "cgcs2000"
    if "西安" in k or "xian" in k or "xi'an" in k:
        return "xian80"
    if "北京" in k or "beijing" in k:
        return "beijing54"
    return None


def _int_field(value: str | None) -> int | None:
    """Extract the integer from a header value such as ``"38"`` or ``"3度"``.

    Parameters
    ----------
    value : str or None
        Raw value.

    Returns
    -------
    int or None
        The first integer found, or ``None`` if there is none.

    """
    if value is None:
        return None
    m = re.search(r"\d+", value)
    return int(m.group()) if m else None


# --------------------------------------------------------------------------
# reading


def _decode(data: bytes, path: str, encoding: str | None) -> str:
    """Decode file bytes: UTF-8 (with or without BOM), then GB18030.

    Parameters
    ----------
    data : bytes
        Raw file content.
    path : str
        File name, for messages.
    encoding : str or None
        Forced encoding, or ``None`` to detect.

    Returns
    -------
    str
        Decoded text without BOM.

    Raises
    ------
    spatial.errors.FileFormatError
        If the bytes cannot be decoded.

    """
    tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in tried:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.lstrip("\ufeff")
    raise FileFormatError(
        f"坐标文件 {path} 无法按 {'/'.join(tried)} 编码读取：请另存为 GBK 或 UTF-8 "
        "编码后重试。",
        f"Coordinate file {path} cannot be decoded as {'/'.join(tried)}: save it as "
        "GBK or UTF-8 and retry.",
    )


def _section(line: str) -> str | None:
    """Return the section name if ``line`` is a ``[...]`` header.

    Parameters
    ----------
    line : str
        A stripped line.

    Returns
    -------
    str or None
        Section name without brackets, or ``None``.

    """
    m = re.fullmatch(r"[\[【［]\s*(.+?)\s*[\]】］]", line)
    return m.group(1) if m else None


def _decode_head(head: bytes, complete: bool) -> str | None:
    """Decode the first bytes of a file as UTF-8, else GB18030.

    Parameters
    ----------
    head : bytes
        Leading bytes of the file.
    complete : bool
        ``False`` if ``head`` was cut, so a multi-byte character may be split
        at the end: up to 3 trailing bytes are then dropped before decoding.

    Returns
    -------
    str or None
        The text, or ``None`` if neither encoding fits.

    """
    cuts = (0,) if complete else (0, 1, 2, 3)
    for enc in ("utf-8-sig", "gb18030"):
        for cut in cuts:
            try:
                return head[: len(head) - cut].decode(enc)
            except UnicodeDecodeError:
                continue
    return None


def is_coordfile(path: str | PathLike[str]) -> bool:
    """Sniff whether a file is a 界址点 坐标文件.

    Parameters
    ----------
    path : str or path-like
        File to test.

    Returns
    -------
    bool
        ``True`` if one of the first non-empty lines is ``[属性描述]`` or
        ``[地块坐标]``; ``False`` otherwise, including for unreadable paths.

    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    text = _decode_head(head, complete=len(head) < 4096)
    if text is None:
        return False
    lines = [ln.strip().lstrip("\ufeff") for ln in text.splitlines() if ln.strip()][:5]
    return any(_section(ln) in (_SECTION_ATTR, _SECTION_COORDS) for ln in lines)


@dataclass
class _Ring:
    number: int
    line: int
    coords: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class _Parcel:
    line: int
    n_points: int
    declared_ha: float
    site_id: str
    name: str
    shape: str
    land_use: str
    rings: list[_Ring] = field(default_factory=list)
    n_rows: int = 0


def _parse_float(text: str) -> float | None:
    """Parse a float; ``None`` if not a finite number.

    Parameters
    ----------
    text : str
        Field text.

    Returns
    -------
    float or None
        The value, or ``None``.

    """
    try:
        v = float(text.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _parse(text: str, path: str) -> tuple[dict[str, str], list[_Parcel]]:
    """Split a decoded 坐标文件 into header attributes and parcels.

    Parameters
    ----------
    text : str
        Decoded file content.
    path : str
        File name, for messages.

    Returns
    -------
    tuple
        ``(attributes, parcels)``.

    Raises
    ------
    spatial.errors.FileFormatError
        On malformed lines.

    """
    attrs: dict[str, str] = {}
    parcels: list[_Parcel] = []
    section: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        sec = _section(line)
        if sec is not None:
            section = sec
            continue
        if section == _SECTION_ATTR:
            key, sep, value = line.replace("＝", "=").partition("=")
            if sep:
                attrs[key.strip()] = value.strip()
            continue
        if section != _SECTION_COORDS:
            if section is None:
                raise FileFormatError(
                    f"坐标文件 {path} 第 {lineno} 行：在 [属性描述] 或 [地块坐标] "
                    f"之前出现内容“{line[:40]}”。",
                    f"Coordinate file {path}, line {lineno}: content {line[:40]!r} "
                    "before the [属性描述] or [地块坐标] section.",
                )
            continue  # unknown extra sections are ignored
        if line.endswith("@"):
            parcels.append(_parse_header(line, lineno, path))
            continue
        if not parcels:
            raise FileFormatError(
                f"坐标文件 {path} 第 {lineno} 行：界址点行之前缺少以“@”结尾的地块头行（"
                "界址点数,地块面积,地块编号,地块名称,点/线/面,图幅号,地块用途,地类编码"
                ",@）。",
                f"Coordinate file {path}, line {lineno}: point row before any parcel "
                "header line ending in '@' "
                "(count,area_ha,id,name,shape,sheet,use,class,@).",
            )
        _parse_point(line, lineno, path, parcels[-1])
    return attrs, parcels


def _parse_header(line: str, lineno: int, path: str) -> _Parcel:
    """Parse a 地块 header line (``界址点数,面积,编号,名称,...,@``).

    Parameters
    ----------
    line : str
        Stripped line ending in ``@``.
    lineno : int
        1-based line number.
    path : str
        File name, for messages.

    Returns
    -------
    _Parcel
        The parcel with no rings yet.

    Raises
    ------
    spatial.errors.FileFormatError
        If the point count or area is not numeric.

    """
    parts = [p.strip() for p in line[:-1].split(",")]
    parts += [""] * (8 - len(parts))
    n_points = _parse_float(parts[0].replace("，", ""))
    area = _parse_float(parts[1]) if parts[1] else math.nan
    if n_points is None or n_points != int(n_points) or area is None:
        raise FileFormatError(
            f"坐标文件 {path} 第 {lineno} 行：地块头行格式错误“{line[:60]}”，"
            "应为“界址点数,地块面积(公顷),地块编号,地块名称,点/线/面,图幅号,地块用途,"
            "地类编码,@”，其中界址点数为整数、面积为数字。",
            f"Coordinate file {path}, line {lineno}: malformed parcel "
            f"header {line[:60]!r}; expected "
            "'point_count,area_ha,id,name,shape,sheet,land_use,class_code,@' with an "
            "integer point count and a numeric area.",
        )
    return _Parcel(
        line=lineno,
        n_points=int(n_points),
        declared_ha=float(area),
        site_id=parts[2],
        name=parts[3],
        shape=parts[4],
        land_use=parts[6],
    )


def _parse_point(line: str, lineno: int, path: str, parcel: _Parcel) -> None:
    """Parse a point row ``点号,圈号,X,Y`` and append it to the parcel's ring.

    Parameters
    ----------
    line : str
        Stripped line.
    lineno : int
        1-based line number.
    path : str
        File name, for messages.
    parcel : _Parcel
        Current parcel (modified in place).

    Raises
    ------
    spatial.errors.FileFormatError
        If the row does not have an integer 圈号 and numeric X, Y.

    """
    parts = [p.strip() for p in line.replace("，", ",").split(",")]
    ring_no = _parse_float(parts[1]) if len(parts) >= 4 else None
    x = _parse_float(parts[2]) if len(parts) >= 4 else None
    y = _parse_float(parts[3]) if len(parts) >= 4 else None
    if (
        ring_no is None
        or ring_no != int(ring_no)
        or ring_no < 1
        or x is None
        or y is None
    ):
        raise FileFormatError(
            f"坐标文件 {path} 第 {lineno} 行：界址点行格式错误“{line[:60]}”，"
            "应为“点号,地块圈号(正整数),X(纵坐标/北),Y(横坐标/东)”。",
            f"Coordinate file {path}, line {lineno}: malformed point "
            f"row {line[:60]!r}; expected 'point_id,ring_no (positive integer),X "
            "(northing),Y (easting)'.",
        )
    parcel.n_rows += 1
    number = int(ring_no)
    # A new ring starts when the 圈号 changes; a repeated 圈号 after another
    # ring (rare) is treated as a separate ring, not appended to the old one.
    if not parcel.rings or parcel.rings[-1].number != number:
        parcel.rings.append(_Ring(number=number, line=lineno))
    # shapely x = easting (Y), y = northing (X).
    parcel.rings[-1].coords.append((y, x))


def _resolve_crs(
    attrs: dict[str, str], parcels: list[_Parcel], path: str
) -> tuple[pyproj.CRS, bool]:
    """Work out the Gauss-Kruger CRS from the header and the eastings.

    Parameters
    ----------
    attrs : dict
        ``[属性描述]`` key/value pairs.
    parcels : list of _Parcel
        Parsed parcels (eastings are inspected for a zone prefix).
    path : str
        File name, for messages.

    Returns
    -------
    tuple
        ``(crs, prefixed)``.

    Raises
    ------
    spatial.errors.CRSError
        Unknown 坐标系, missing or inconsistent 带号 / 几度分带.
    spatial.errors.FileFormatError
        Mixed prefixed/unprefixed eastings or X/Y apparently swapped.

    """
    system = attrs.get("坐标系", "")
    datum = _datum_from_text(system)
    if datum is None:
        raise CRSError(
            f"坐标文件 {path}：无法识别的坐标系“{system}”。支持："
            "2000国家大地坐标系（CGCS2000）、1980西安坐标系（西安80）、"
            "1954北京坐标系（北京54）。请在 [属性描述] 中填写“坐标系=”。",
            f"Coordinate file {path}: unknown coordinate system {system!r}. Supported: "
            "CGCS2000 (2000国家大地坐标系), Xian 1980 (1980西安坐标系), Beijing 1954 "
            "(1954北京坐标系). Set '坐标系=' in the [属性描述] section.",
        )
    projection = attrs.get("投影类型", "")
    if projection and not re.search(r"高斯|gauss|gk|横轴墨卡托|tm", projection, re.I):
        raise CRSError(
            f"坐标文件 {path}：不支持的投影类型“{projection}”，只支持高斯-克吕格投影。",
            f"Coordinate file {path}: unsupported projection {projection!r}; only "
            "Gauss-Kruger is supported.",
        )
    unit = attrs.get("计量单位", "")
    if unit and unit.strip().lower() not in ("米", "m", "metre", "meter", "公尺"):
        raise CRSError(
            f"坐标文件 {path}：不支持的计量单位“{unit}”，坐标须以米为单位。",
            f"Coordinate file {path}: unsupported unit {unit!r}; coordinates must be "
            "in metres.",
        )

    northings = [c[1] for p in parcels for r in p.rings for c in r.coords]
    eastings = [c[0] for p in parcels for r in p.rings for c in r.coords]
    if northings and (max(northings) >= 1e7 or min(northings) < 0):
        raise FileFormatError(
            f"坐标文件 {path}：X（纵坐标）取值 {max(northings):.3f} 不像北向坐标，X 与 "
            "Y 可能写反了（X 应为北向坐标，Y 为带带号的东向坐标）。",
            f"Coordinate file {path}: X value {max(northings):.3f} is not a plausible "
            "northing; X and Y may be swapped (X must be the northing, Y the easting "
            "with zone prefix).",
        )
    prefixes = {int(e // 1_000_000) for e in eastings}
    if len(prefixes) > 1:
        raise FileFormatError(
            f"坐标文件 {path}：Y（横坐标）有的带带号、有的不带，"
            f"或带号不一致（{sorted(prefixes)}）。",
            f"Coordinate file {path}: Y (easting) values mix zone "
            f"prefixes {sorted(prefixes)}; all points must use the same zone and "
            "prefix convention.",
        )
    prefix = prefixes.pop() if prefixes else 0
    prefixed = prefix > 0

    zone = _int_field(attrs.get("带号"))
    width = _int_field(attrs.get("几度分带"))
    if prefixed and zone is not None and zone != prefix:
        raise CRSError(
            f"坐标文件 {path}：[属性描述] 带号={zone}，但 Y 坐标的带号前缀为 {prefix}，"
            "二者不一致。",
            f"Coordinate file {path}: header zone 带号={zone} but the Y (easting) "
            f"prefix is {prefix}; they must agree.",
        )
    if zone is None:
        if not prefixed:
            raise CRSError(
                f"坐标文件 {path}：缺少“带号”，且 Y 坐标不带带号前缀，无法确定投影带。"
                "请在 [属性描述] 中填写“带号=”。",
                f"Coordinate file {path}: no 带号 (zone) in the header and the Y "
                "(easting) values have no zone prefix, so the zone is unknown. Add "
                "'带号=' to [属性描述].",
            )
        zone = prefix
    if width is None:
        width = 3 if zone in _ZONES[3] else 6 if zone in _ZONES[6] else 0
    try:
        crs = gauss_kruger_crs(datum, width, zone, prefixed)
    except CRSError as exc:
        raise CRSError(
            f"坐标文件 {path}：{exc.zh}", f"Coordinate file {path}: {exc.en}"
        ) from None
    return crs, prefixed


def _build_geometry(parcel: _Parcel, path: str) -> Polygon | MultiPolygon:
    """Assemble a parcel's rings into a Polygon or MultiPolygon.

    Ring 1 is the first outer ring.  Later rings inside an outer ring (and
    not inside one of its holes) become holes; the others become new outer
    parts, so several outer rings give a MultiPolygon.

    Parameters
    ----------
    parcel : _Parcel
        Parsed parcel.
    path : str
        File name, for messages.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        The parcel geometry.

    Raises
    ------
    spatial.errors.FileFormatError
        If a ring has fewer than 4 points once closed.

    """
    parts: list[tuple[Polygon, list[Polygon]]] = []
    for ring in parcel.rings:
        coords = list(ring.coords)
        if coords and coords[0] != coords[-1]:
            coords.append(coords[0])  # tolerate rings not explicitly closed
        if len(coords) < 4 or len(set(coords)) < 3:
            raise FileFormatError(
                f"坐标文件 {path} 第 {ring.line} 行起：地块“{parcel.site_id}”第"
                f" {ring.number} 圈只有 {len(set(coords))} 个不同的点，至少需要 3 "
                "个不同点（闭合后 4 个点）。",
                f"Coordinate file {path}, from line {ring.line}: "
                f"parcel {parcel.site_id!r} ring {ring.number} has {len(set(coords))} "
                "distinct points; at least 3 distinct points (4 when closed) are "
                "required.",
            )
        poly = Polygon(coords)
        probe = poly.representative_point()
        host = None
        for shell, holes in parts:
            if shell.contains(probe) and not any(h.contains(probe) for h in holes):
                host = holes
                break
        if host is None:
            parts.append((poly, []))  # first ring, or an extra outer part / island
        else:
            host.append(poly)
    polys = [
        Polygon(shell.exterior.coords, [h.exterior.coords for h in holes])
        for shell, holes in parts
    ]
    if len(polys) == 1:
        return polys[0]
    return MultiPolygon(polys)


def read_coordfile(
    path: str | PathLike[str], encoding: str | None = None, *, stem: str | None = None
) -> gpd.GeoDataFrame:
    """Read a 界址点 坐标文件 (land-use approval coordinate TXT) into a GeoDataFrame.

    Parameters
    ----------
    path : str or path-like
        The TXT file.
    encoding : str, optional
        Force a text encoding; by default UTF-8 (with or without BOM) is
        tried, then GB18030 (a superset of GBK).
    stem : str, optional
        The file's stem as its user knows it (an upload stored under another
        name), for the ids of parcels without one; default: ``path``'s stem.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per 地块 with columns ``site_id`` (地块编号), ``name``
        (地块名称; blank or template ids such as ``FID_0``, ``DKMC``, ``@``
        become ``<file stem>-<parcel number>``), ``declared_area_ha``
        (地块面积 as declared, NaN if blank), ``gk_plane_area_ha`` (area in
        the Gauss-Kruger plane, hectares: what 用地报批 declares, checked
        against ``declared_area_ha``), ``ellipsoidal_area_ha`` (GRS80, the
        area ecozone uses everywhere else),
        ``land_use`` (地块用途) and ``geometry`` (Polygon/MultiPolygon with
        holes), in the file's Gauss-Kruger CRS (zone-prefixed EPSG code when
        the eastings carry the zone number, central-meridian code otherwise).
        ``gdf.attrs["coordfile"]`` holds the ``[属性描述]`` key/value pairs.

    Raises
    ------
    spatial.errors.FileFormatError
        Unreadable file, malformed line (message names file and line), a
        ring with fewer than 4 points, or no 地块 at all.
    spatial.errors.CRSError
        Unknown 坐标系, missing/inconsistent 带号 or 几度分带.

    Warns
    -----
    AreaMismatchWarning
        When ``|parsed - declared| > max(0.5 % of declared, 0.0001 ha)``.
    CoordFileWarning
        When a 地块's point count differs from its header, or 地块编号 repeat.

    """
    p = Path(path)
    name = str(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileFormatError(
            f"无法读取坐标文件 {name}：{exc.strerror or exc}。请检查路径和权限。",
            f"Cannot read coordinate file {name}: {exc.strerror or exc}. Check the "
            "path and permissions.",
        ) from exc
    text = _decode(data, name, encoding)
    attrs, parcels = _parse(text, name)
    if not parcels:
        raise FileFormatError(
            f"坐标文件 {name} 中没有地块：需要 [地块坐标] 段，"
            "且每个地块以“…,@”头行开始。",
            f"Coordinate file {name} contains no parcel: a [地块坐标] section with "
            "parcel header lines ending in '@' is required.",
        )
    for k, parcel in enumerate(parcels, start=1):
        if parcel.shape and parcel.shape not in ("面", "polygon", "Polygon"):
            raise FileFormatError(
                f"坐标文件 {name} 第 {parcel.line} 行：地块“{parcel.site_id}”的图形属性"
                f"为“{parcel.shape}”，只支持“面”。",
                f"Coordinate file {name}, line {parcel.line}: "
                f"parcel {parcel.site_id!r} has shape {parcel.shape!r}; only '面' "
                "(polygon) is supported.",
            )
        if not parcel.rings:
            raise FileFormatError(
                f"坐标文件 {name} 第 {parcel.line} 行：地块“{parcel.site_id}”没有界址"
                "点。",
                f"Coordinate file {name}, line {parcel.line}: "
                f"parcel {parcel.site_id!r} has no boundary points.",
            )
        if is_placeholder_id(parcel.site_id):
            # Blank or template 地块编号 (FID_0, DKMC, @): the file stem plus the parcel's
            # order is unique across a folder of files, which every later step needs.
            parcel.site_id = f"{stem or p.stem}-{k}"
    crs, _ = _resolve_crs(attrs, parcels, name)

    counts = Counter(p_.site_id for p_ in parcels)
    dupes = sorted(i for i, n in counts.items() if n > 1)
    if dupes:
        warnings.warn(
            f"坐标文件 {name}：地块编号重复 {dupes}。 / Coordinate file {name}: "
            f"repeated parcel ids {dupes}.",
            CoordFileWarning,
            stacklevel=2,
        )
    geoms = []
    for parcel in parcels:
        if parcel.n_rows != parcel.n_points:
            warnings.warn(
                f"坐标文件 {name} 第 {parcel.line} 行：地块“{parcel.site_id}”头行界址点"
                f"数为 {parcel.n_points}，实际读到 {parcel.n_rows} 个点。 / Coordinate "
                f"file {name}, line {parcel.line}: parcel {parcel.site_id!r} "
                f"declares {parcel.n_points} points but {parcel.n_rows} were read.",
                CoordFileWarning,
                stacklevel=2,
            )
        geoms.append(_build_geometry(parcel, name))
    # 用地报批 declares the Gauss-Kruger plane area; everything else in ecozone is ellipsoidal.
    parsed_ha = shapely.area(geoms) / 10_000.0
    ellipsoidal_ha = ellipsoidal_area(np.asarray(geoms, dtype=object), crs) / 10_000.0
    for parcel, got in zip(parcels, parsed_ha):
        want = parcel.declared_ha
        if math.isnan(want):
            continue
        if abs(got - want) > max(0.005 * abs(want), 0.0001):
            warnings.warn(
                f"坐标文件 {name}：地块“{parcel.site_id}”申报面积 {want:.4f} 公顷，"
                f"按坐标计算为 {got:.4f} 公顷，相差超过 0.5%。 / Coordinate "
                f"file {name}: parcel {parcel.site_id!r} declares {want:.4f} ha but "
                f"its coordinates give {got:.4f} ha (difference above 0.5%).",
                AreaMismatchWarning,
                stacklevel=2,
            )
    gdf = gpd.GeoDataFrame(
        {
            "site_id": [p_.site_id for p_ in parcels],
            "name": [p_.name for p_ in parcels],
            "declared_area_ha": [p_.declared_ha for p_ in parcels],
            "gk_plane_area_ha": parsed_ha.astype("float64"),
            "ellipsoidal_area_ha": ellipsoidal_ha.astype("float64"),
            "land_use": [p_.land_use for p_ in parcels],
        },
        geometry=geoms,
        crs=crs,
    )
    gdf.attrs["coordfile"] = dict(attrs)
    return gdf
