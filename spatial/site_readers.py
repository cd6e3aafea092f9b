"""Site files read as a planner means them: CAD drawings, Excel workbooks, Google Earth.

* DXF (also DWG saved as DXF), read with ezdxf: closed POLYLINE/LWPOLYLINE,
  CIRCLE, closed SPLINE/ELLIPSE and HATCH become polygons, their arcs and
  bulges densified to 1 cm; open ones become lines.  TEXT, MTEXT, INSERT
  (blocks) and dimensions are annotation, ignored with a count.  The CAD layer
  is chosen with ``layer``; when areas (or lines) sit on several layers the
  reader stops and lists them, because a drawing frame or a road on another
  layer is not a site.
* XLSX/XLS: every sheet with coordinate columns is read, the sheet name kept
  in a ``sheet`` column, unless ``sheet`` picks one.  Sheets without
  coordinates are named in a warning, never dropped silently.
* KML/KMZ: every folder is read (``kml_folder`` column), and Google Earth's
  ``Name`` becomes the id where the file has no ``id``.
* Coordinates: NaN, infinities, latitudes beyond ±90°, longitudes beyond ±180°
  and numbers no CRS on Earth produces are row-named errors, never a verdict.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from layers.base import clean_key, format_rows
from spatial.errors import CRSError, DataWarning, FileFormatError, InputError

__all__ = [
    "read_dxf",
    "read_excel_sheets",
    "read_kml",
    "check_coordinates",
    "check_lonlat_values",
    "DXF_SAGITTA",
    "COORDS_CHOICES",
    "choose_pair",
    "check_text_table",
    "parse_wkt",
]

#: Largest gap (drawing units, i.e. metres) between a densified arc and the true curve.
DXF_SAGITTA = 0.01
#: No CRS on Earth has coordinates beyond this (GK eastings with a zone prefix stay under 4.6e7).
MAX_ABS_COORD = 1e8
#: Values above this in lon/lat columns are metres (the projected-CRS hint applies), not typos.
_METRES = 1000.0
#: ``--coords`` values: which pair of columns to use when a table has both.
COORDS_CHOICES = ("lonlat", "xy")

_AREA_TYPES = {"CIRCLE", "HATCH"}
_LINE_TYPES = {"LINE", "ARC", "LWPOLYLINE", "POLYLINE", "SPLINE", "ELLIPSE"}
_ANNOTATION = {"TEXT", "MTEXT", "INSERT", "DIMENSION", "ATTRIB", "ATTDEF", "LEADER", "MLEADER", "TABLE"}


# --------------------------------------------------------------------------- DXF


def _arc_points(cx: float, cy: float, r: float, a0: float, sweep: float, sagitta: float) -> np.ndarray:
    """Points on a circular arc (radians, signed sweep), at most ``sagitta`` from the curve, end excluded."""
    step = 2 * np.arccos(max(-1.0, 1 - sagitta / r)) if r > sagitta else np.pi / 2
    n = max(1, int(np.ceil(abs(sweep) / max(step, 1e-9))))
    t = a0 + sweep * np.arange(n) / n
    return np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])


def _bulged(xyb: np.ndarray, closed: bool, sagitta: float) -> np.ndarray:
    """Vertices of a polyline with bulges, each bulged segment replaced by points on its exact arc."""
    from ezdxf.math import Vec2, bulge_to_arc

    out = []
    n = len(xyb)
    last = n if closed else n - 1
    for i in range(last):
        x0, y0, b = xyb[i]
        x1, y1 = xyb[(i + 1) % n][:2]
        if abs(b) < 1e-12 or (x0 == x1 and y0 == y1):
            out.append(np.array([[x0, y0]]))
            continue
        centre, _, _, r = bulge_to_arc(Vec2(x0, y0), Vec2(x1, y1), b)
        a0 = np.arctan2(y0 - centre.y, x0 - centre.x)
        out.append(_arc_points(centre.x, centre.y, r, a0, 4 * np.arctan(b), sagitta))
    if not closed:
        out.append(xyb[-1:, :2])
    return np.concatenate(out) if out else np.zeros((0, 2))


def _flatten(entity: object, sagitta: float) -> np.ndarray:
    """Vertices of a curve entity: exact arcs for polylines, arcs and circles; ezdxf's flattening otherwise."""
    kind = entity.dxftype()  # type: ignore[attr-defined]
    if kind == "LWPOLYLINE":
        xyb = np.array(entity.get_points("xyb"), dtype=float).reshape(-1, 3)  # type: ignore[attr-defined]
        return _bulged(xyb, bool(entity.closed), sagitta)  # type: ignore[attr-defined]
    if kind == "POLYLINE":
        xyb = np.array([(v.dxf.location.x, v.dxf.location.y, v.dxf.get("bulge", 0.0)) for v in entity.vertices], dtype=float).reshape(-1, 3)  # type: ignore[attr-defined]
        return _bulged(xyb, bool(entity.is_closed), sagitta)  # type: ignore[attr-defined]
    if kind in ("CIRCLE", "ARC"):
        c, r = entity.dxf.center, float(entity.dxf.radius)  # type: ignore[attr-defined]
        if kind == "CIRCLE":
            return _arc_points(c.x, c.y, r, 0.0, 2 * np.pi, sagitta)
        a0, a1 = np.radians(entity.dxf.start_angle), np.radians(entity.dxf.end_angle)  # type: ignore[attr-defined]
        sweep = (a1 - a0) % (2 * np.pi) or 2 * np.pi
        pts = _arc_points(c.x, c.y, r, a0, sweep, sagitta)
        return np.vstack([pts, [[c.x + r * np.cos(a1), c.y + r * np.sin(a1)]]])
    from ezdxf import path as dxfpath

    p = dxfpath.make_path(entity)
    return np.array([(v.x, v.y) for v in p.flattening(sagitta)], dtype=float)


def _hatch_polygon(entity: object, sagitta: float) -> shapely.Geometry:
    from ezdxf import path as dxfpath

    rings = [np.array([(v.x, v.y) for v in p.flattening(sagitta)]) for p in dxfpath.from_hatch(entity)]
    rings = [r for r in rings if len(r) >= 3]
    if not rings:
        return shapely.Polygon()
    # Even-odd fill: the symmetric difference of the boundary loops (islands are holes).
    polys = shapely.make_valid(shapely.polygons(rings))
    out = polys[0]
    for p in polys[1:]:
        out = shapely.symmetric_difference(out, p)
    return out


def _is_closed(entity: object, pts: np.ndarray) -> tuple[bool, bool]:
    """Return (closed, closed only by coinciding end points) for a curve entity."""
    kind = entity.dxftype()  # type: ignore[attr-defined]
    flag = False
    if kind == "LWPOLYLINE":
        flag = bool(entity.closed)  # type: ignore[attr-defined]
    elif kind == "POLYLINE":
        flag = bool(entity.is_closed)  # type: ignore[attr-defined]
    elif kind == "SPLINE":
        flag = bool(entity.closed)  # type: ignore[attr-defined]
    elif kind == "ELLIPSE":
        flag = abs(abs(entity.dxf.end_param - entity.dxf.start_param) - 2 * np.pi) < 1e-9  # type: ignore[attr-defined]
    if flag:
        return True, False
    # CAD users often snap the last vertex onto the first without setting the closed flag.
    coincide = len(pts) >= 4 and bool(np.allclose(pts[0], pts[-1], rtol=0, atol=1e-6))
    return coincide, coincide


def read_dxf(path: str | os.PathLike[str], layer: str | None = None, *, sagitta: float = DXF_SAGITTA) -> gpd.GeoDataFrame:
    """Read the site geometries of a DXF drawing (model space).

    Parameters
    ----------
    path : path-like
        The ``.dxf`` file.
    layer : str, optional
        CAD layer holding the sites.  Without it the sites are the areas of the
        drawing (or its lines, if it has no areas), which must sit on one layer.
    sagitta : float, default 0.01
        Densification of arcs and bulges: largest gap to the true curve, in
        drawing units.

    Returns
    -------
    GeoDataFrame
        ``cad_layer``, ``cad_handle``, ``cad_entity`` and geometry (no CRS: DXF
        carries none).

    Raises
    ------
    FileFormatError
        The file is not a readable DXF.
    InputError
        The layer does not exist, or the choice of layer matters (listing the
        layers and what they hold).
    """
    import ezdxf
    from ezdxf import recover

    path = Path(path)
    try:
        doc, auditor = recover.readfile(str(path))
    except (OSError, ezdxf.DXFError) as exc:
        raise FileFormatError(
            f"无法读取 DXF 文件 {path.name}：{exc}。DWG 请先在 CAD 中另存为 DXF。",
            f"cannot read DXF {path.name}: {exc}; save DWG drawings as DXF first",
        ) from exc
    rows: list[tuple[str, str, str, shapely.Geometry, int]] = []  # layer, handle, type, geometry, dimension
    ignored: dict[str, int] = {}
    snapped = 0
    msp = doc.modelspace()
    for e in msp:
        kind = e.dxftype()
        lay = str(e.dxf.get("layer", "0"))
        if kind in _ANNOTATION:
            ignored[kind] = ignored.get(kind, 0) + 1
            continue
        if kind == "POINT":
            loc = e.dxf.location
            rows.append((lay, e.dxf.handle, kind, shapely.Point(loc.x, loc.y), 0))
        elif kind == "HATCH":
            rows.append((lay, e.dxf.handle, kind, _hatch_polygon(e, sagitta), 2))
        elif kind == "CIRCLE":
            rows.append((lay, e.dxf.handle, kind, shapely.Polygon(_flatten(e, sagitta)), 2))
        elif kind in _LINE_TYPES:
            if kind == "POLYLINE" and (e.is_poly_face_mesh or e.is_polygon_mesh):
                ignored[kind + " mesh"] = ignored.get(kind + " mesh", 0) + 1
                continue
            pts = _flatten(e, sagitta)
            if len(pts) < 2:
                continue
            closed, by_snap = _is_closed(e, pts)
            if closed and len(np.unique(pts, axis=0)) >= 3:
                snapped += by_snap
                rows.append((lay, e.dxf.handle, kind, shapely.Polygon(pts), 2))
            else:
                rows.append((lay, e.dxf.handle, kind, shapely.LineString(pts), 1))
        else:
            ignored[kind] = ignored.get(kind, 0) + 1
    frame = pd.DataFrame(rows, columns=["cad_layer", "cad_handle", "cad_entity", "geometry", "dim"])
    layers_found = sorted(frame["cad_layer"].unique()) if len(frame) else []
    all_layers = sorted({str(lay.dxf.name) for lay in doc.layers})

    def listing(sub: pd.DataFrame) -> str:
        counts = sub.groupby("cad_layer")["dim"].agg(lambda d: (int((d == 2).sum()), int((d == 1).sum()), int((d == 0).sum())))
        return "、".join(f"{k}（面 {a}，线 {b}，点 {c}）" for k, (a, b, c) in counts.items())

    if layer is not None:
        if layer not in all_layers and layer not in layers_found:
            raise InputError(
                f"{path.name} 中没有 CAD 图层“{layer}”。现有图层：{listing(frame) or '、'.join(all_layers)}。请用 --layer 选其中一个。",
                f"{path.name} has no CAD layer {layer!r}; layers: {', '.join(layers_found or all_layers)}; pass one with --layer",
            )
        chosen = frame[frame["cad_layer"] == layer]
    else:
        best = int(frame["dim"].max()) if len(frame) else 0
        chosen = frame[frame["dim"] == best]
        on = sorted(chosen["cad_layer"].unique())
        if len(on) > 1:
            what = {2: "闭合图形（面）", 1: "线", 0: "点"}[best]
            raise InputError(
                f"{path.name} 有多个 CAD 图层含{what}，无法确定哪个是用地红线：{listing(frame[frame['cad_layer'].isin(on)])}。"
                f"请用 --layer（或 --dxf-layer）指定图层，如 --layer {on[0]}。",
                f"{path.name}: several CAD layers hold {'areas' if best == 2 else 'lines' if best == 1 else 'points'} "
                f"({', '.join(on)}); choose the site layer with --layer (or --dxf-layer)",
            )
    left = frame.drop(index=chosen.index)
    notes = []
    if ignored:
        notes.append("忽略注记/图块 " + "、".join(f"{k} {v} 个" for k, v in sorted(ignored.items())))
    if len(left):
        notes.append(f"未读取其他图层或其他类型的图形 {len(left)} 个（{listing(left)}）")
    if snapped:
        notes.append(f"{snapped} 条首尾重合但未标记闭合的多段线按闭合面读取")
    if notes:
        warnings.warn(
            f"{path.name}：读取 CAD 图层 {('、'.join(sorted(chosen['cad_layer'].unique())) or '—')} 的 {len(chosen)} 个图形；"
            + "；".join(notes)
            + f"。 / {path.name}: read {len(chosen)} shapes; ignored {sum(ignored.values())} annotations/blocks and {len(left)} other shapes",
            DataWarning,
            stacklevel=3,
        )
    chosen = chosen.drop(columns="dim").reset_index(drop=True)
    return gpd.GeoDataFrame(chosen.drop(columns="geometry"), geometry=list(chosen["geometry"]), crs=None)


# --------------------------------------------------------------------------- XLSX


def read_excel_sheets(
    path: str | os.PathLike[str], sheet: str | None, has_coordinates: callable, id_aliases: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """Read the sheets of a workbook that hold coordinates (or the one ``sheet`` names).

    Parameters
    ----------
    path : path-like
        ``.xlsx``/``.xls`` file.
    sheet : str, optional
        Read only this sheet.
    has_coordinates : callable
        ``columns -> bool``: whether a sheet has coordinate columns.
    id_aliases : sequence of str
        Id column names: ids repeated across sheets get the sheet name as a prefix.

    Returns
    -------
    (DataFrame, list of str)
        The rows (with a ``sheet`` column when several sheets were read) and
        each row's label as the user sees it (``一期!5``: sheet and Excel row).

    Raises
    ------
    InputError
        Unknown sheet, or no sheet with coordinates.
    """
    path = Path(path)
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=object)
    except Exception as exc:  # noqa: BLE001 - openpyxl/xlrd raise many types
        raise FileFormatError(f"无法读取 Excel 文件 {path.name}：{exc}", f"cannot read workbook {path.name}: {exc}") from exc
    names = list(book)
    if sheet is not None:
        if sheet not in book:
            raise InputError(
                f"{path.name} 中没有工作表“{sheet}”。现有工作表：{'、'.join(names)}。",
                f"{path.name} has no sheet {sheet!r}; sheets: {', '.join(names)}",
            )
        df = book[sheet].dropna(how="all")
        df.columns = [str(c) for c in df.columns]
        return df, [f"{sheet}!{int(i) + 2}" for i in df.index]
    for df in book.values():
        df.columns = [str(c) for c in df.columns]
    usable = [n for n in names if has_coordinates(list(book[n].columns)) and len(book[n].dropna(how="all"))]
    skipped = [n for n in names if n not in usable and len(book[n].dropna(how="all"))]
    if not usable:
        first = book[names[0]].dropna(how="all") if names else pd.DataFrame()
        return first, [f"{names[0]}!{int(i) + 2}" for i in first.index]
    if len(usable) == 1:
        if skipped:
            warnings.warn(
                f"{path.name}：读取工作表“{usable[0]}”；工作表 {'、'.join(skipped)} 没有坐标列，未读取。"
                f" / read sheet {usable[0]!r}; sheets without coordinate columns skipped: {', '.join(skipped)}",
                DataWarning,
                stacklevel=3,
            )
        df = book[usable[0]].dropna(how="all")
        return df, [f"{usable[0]}!{int(i) + 2}" for i in df.index]
    frames, labels = [], []
    for n in usable:
        df = book[n].dropna(how="all").copy()
        labels += [f"{n}!{int(i) + 2}" for i in df.index]
        df.insert(0, "sheet", n)
        frames.append(df.reset_index(drop=True))
    out = pd.concat(frames, ignore_index=True)
    folded = {clean_key(c): c for c in out.columns}
    idcol = next((folded[clean_key(a)] for a in id_aliases if clean_key(a) in folded), None)
    note = ""
    if idcol is not None:
        ids = out[idcol].astype("string").str.strip()
        if ids.dropna().duplicated().any():
            out[idcol] = (out["sheet"] + "-" + ids).where(ids.notna() & (ids != ""), ids)
            note = f"各工作表编号有重复，编号前加了工作表名（如 {out[idcol].iloc[0]}）；"
    warnings.warn(
        f"{path.name}：读取了 {len(usable)} 个含坐标的工作表 {'、'.join(usable)}（共 {len(out)} 行，工作表名在 sheet 列）；{note}"
        + (f"工作表 {'、'.join(skipped)} 没有坐标列，未读取；" if skipped else "")
        + "只读一个请用 --sheet。"
        + f" / read {len(usable)} sheets with coordinates ({', '.join(usable)}); use --sheet to read one",
        DataWarning,
        stacklevel=3,
    )
    return out, labels


# --------------------------------------------------------------------------- KML


#: Columns GDAL's LIBKML driver adds to every placemark (styles and times).
_KML_STYLE_COLUMNS = ("timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet")
#: Their values when a placemark does not set them.
_KML_UNSET = ("", "-1", "0", "1", "clampToGround")


def read_kml(path: str | os.PathLike[str], layer: str | None = None) -> gpd.GeoDataFrame:
    """Read every folder of a KML/KMZ; Google Earth's ``Name`` is the id where ``id`` is empty.

    Parameters
    ----------
    path : path-like
        ``.kml`` or ``.kmz``.
    layer : str, optional
        One folder (KML layer) only.

    Returns
    -------
    GeoDataFrame
        Placemarks in WGS84, with ``kml_folder`` when several folders were read.
    """
    from spatial.io import list_layers, read_vector

    path = Path(path)
    names = [layer] if layer is not None else list_layers(path)
    frames = []
    for n in names:
        gdf = read_vector(path, n, require_crs=False)
        if len(names) > 1:
            gdf.insert(0, "kml_folder", n)
        frames.append(gdf)
    gdf = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    # LIBKML's style columns (tessellate, drawOrder …) say nothing about a site: dropped when unset
    boiler = [c for c in gdf.columns if c in _KML_STYLE_COLUMNS and gdf[c].astype("string").fillna("").isin(_KML_UNSET).all()]
    gdf = gdf.drop(columns=boiler)
    cols = {c.lower(): c for c in gdf.columns}
    name = cols.get("name")
    idc = cols.get("id")
    named = name is not None and not gdf[name].astype("string").fillna("").str.strip().eq("").all()
    if named or (name is not None and (idc is None or gdf[idc].astype("string").fillna("").str.strip().eq("").all())):
        # The placemark's Name is what a planner sees in Google Earth: it is the site id (and name);
        # a placemark id GDAL or Google Earth wrote (``layer.1``, ``0A3F…``) is kept as kml_id.
        ids = gdf[name].astype("string").fillna("").str.strip()
        rows = pd.Series([str(i + 1) for i in range(len(gdf))], index=gdf.index)
        if idc is not None:
            rows = gdf[idc].astype("string").fillna("").str.strip().where(lambda v: v != "", rows)
        ids = ids.where(ids != "", rows)
        dup = ids.duplicated(keep=False)
        if dup.any():
            ids = ids.where(~dup, ids + "#" + (ids.groupby(ids).cumcount() + 1).astype(str))
            warnings.warn(
                f"{path.name}：地标名称重复，编号加了序号：{format_rows(sorted(set(ids[dup])), 10)} / duplicate placemark names numbered",
                DataWarning,
                stacklevel=3,
            )
        if idc is not None:
            gdf = gdf.rename(columns={idc: "kml_id"}) if named and not gdf[idc].astype("string").fillna("").eq("").all() else gdf.drop(columns=idc)
        gdf.insert(0, "site_id", ids.to_numpy())
    return gdf


# --------------------------------------------------------------------------- coordinates


def check_lonlat_values(x: np.ndarray, y: np.ndarray, rows: Sequence[str], label: str, *, names: tuple[str, str] = ("经度", "纬度")) -> None:
    """Stop on lon/lat values that are not finite or out of range (row-named).

    Values of metre size (projected numbers in degree columns) are left to
    :func:`spatial.sanity.check_sites_against_zoning`, which can say which CRS
    they are in.

    Parameters
    ----------
    x, y : ndarray
        Longitudes and latitudes (float, NaN allowed only where flagged).
    rows : sequence of str
        Row labels as the user sees them.
    label : str
        File name for messages.
    names : (str, str)
        Column names for messages.

    Raises
    ------
    InputError, CRSError
        Naming the rows and the fix.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    _check_finite(x, y, rows, label, names)
    small = (np.abs(x) < _METRES) & (np.abs(y) < _METRES)
    out = small & ((np.abs(y) > 90) | (np.abs(x) > 180))
    if out.any():
        idx = np.flatnonzero(out)
        listed = [f"{rows[i]}: {names[0]} {x[i]:g}，{names[1]} {y[i]:g}" for i in idx]
        swap = bool(((np.abs(x[idx]) <= 90) & (np.abs(y[idx]) <= 180)).all())
        hint = "看起来经纬度两列颠倒了，请交换两列后重试。" if swap else f"请改正这些行的{names[0]}/{names[1]}。"
        raise CRSError(
            f"{label}：坐标超出范围（纬度须在 -90°~90°，经度须在 -180°~180°），行：{format_rows(listed, 10)}。{hint}",
            f"{label}: coordinates out of range (latitude -90..90, longitude -180..180) in rows {format_rows(listed, 10)}. "
            + ("The two columns look swapped." if swap else "Fix these values."),
        )


def _check_finite(x: np.ndarray, y: np.ndarray, rows: Sequence[str], label: str, names: tuple[str, str] = ("x", "y")) -> None:
    """Raise on NaN/inf and on numbers too large for any CRS."""
    bad = ~np.isfinite(x) | ~np.isfinite(y)
    if bad.any():
        listed = [f"{rows[i]}: ({x[i]}, {y[i]})" for i in np.flatnonzero(bad)]
        raise InputError(
            f"{label}：坐标不是有限数值（NaN 或无穷大 inf），行：{format_rows(listed, 10)}。请在源文件中填写正确的{names[0]}/{names[1]}后重试。",
            f"{label}: coordinates are not finite numbers (NaN or inf) in rows {format_rows(listed, 10)}; fix them in the file",
        )
    huge = (np.abs(x) > MAX_ABS_COORD) | (np.abs(y) > MAX_ABS_COORD)
    if huge.any():
        listed = [f"{rows[i]}: ({x[i]:g}, {y[i]:g})" for i in np.flatnonzero(huge)]
        raise InputError(
            f"{label}：坐标数值过大，不属于任何坐标系（地球上没有这样的位置），行：{format_rows(listed, 10)}。请检查是否多输了位数或单位有误。",
            f"{label}: coordinates too large for any CRS on Earth in rows {format_rows(listed, 10)}; check for extra digits or wrong units",
        )


def check_coordinates(gdf: gpd.GeoDataFrame, label: str, rows: Sequence[str] | None = None) -> None:
    """Stop on any vertex that is not finite, out of range, or fits no CRS (naming the row).

    Parameters
    ----------
    gdf : GeoDataFrame
        Sites as read, CRS set (or None: only finiteness is checked).
    label : str
        File name for messages.
    rows : sequence of str, optional
        Row labels as the user sees them (default: ``要素 1``, ``要素 2`` ...).

    Raises
    ------
    InputError
        Naming the rows, the values and the fix.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if not len(geoms):
        return
    rows = list(rows) if rows is not None else [f"要素 {i + 1}" for i in range(len(geoms))]
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    # A point made of NaN is "empty" to GEOS, so NaN points would look like missing geometry.
    nan_pt = (shapely.get_type_id(geoms) == 0) & shapely.is_empty(geoms)
    if nan_pt.any():
        listed = [rows[i] for i in np.flatnonzero(nan_pt)]
        raise InputError(
            f"{label}：坐标不是有限数值（NaN），{format_rows(listed, 10)}。请在源文件中改正坐标。",
            f"{label}: coordinates are NaN in {format_rows(listed, 10)}; fix them in the file",
        )
    if not len(coords):
        return
    # One value per feature: its first offending vertex (or its first vertex).
    crs = CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
    x, y = coords[:, 0], coords[:, 1]
    finite = np.isfinite(x) & np.isfinite(y)
    if crs is not None and crs.is_geographic:
        ok = finite & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    else:
        ok = finite & (np.abs(x) <= MAX_ABS_COORD) & (np.abs(y) <= MAX_ABS_COORD)
    if crs is not None and crs.is_projected and ok.any():
        lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(x[ok], y[ok], errcheck=False)
        bad_proj = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90))
        ok[np.flatnonzero(ok)[bad_proj]] = False
    if ok.all():
        return
    first = {}
    for j in np.flatnonzero(~ok):
        first.setdefault(int(idx[j]), j)
    fx, fy = x[list(first.values())], y[list(first.values())]
    frows = [rows[i] for i in first]
    if crs is not None and crs.is_geographic:
        check_lonlat_values(fx, fy, frows, label, names=("经度 x", "纬度 y"))
        return  # metre-size values: the zoning-aware check names the CRS
    _check_finite(fx, fy, frows, label)
    listed = [f"{r}: ({a:g}, {b:g})" for r, a, b in zip(frows, fx, fy, strict=True)]
    name = crs.name if crs is not None else "—"
    from spatial.crs import gk_alternatives
    from spatial.sanity import CHINA_LONLAT

    for lab, alt, ax, ay in gk_alternatives(fx, fy, crs or CRS.from_epsg(4547)):
        lon, lat = Transformer.from_crs(alt, alt.geodetic_crs, always_xy=True).transform(ax, ay, errcheck=False)
        x0, y0, x1, y1 = CHINA_LONLAT
        if np.all(np.isfinite(lon) & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)):
            code = lab.split("（")[0]
            raise CRSError(
                f"{label}：坐标在 {name} 中不是地球上的位置，{format_rows(listed, 10)}；看起来坐标系应为 {lab}。请用 --sites-crs {code}。",
                f"{label}: coordinates are not a place on Earth in {name}: {format_rows(listed, 10)}; they look like {code}: pass --sites-crs {code}",
            )
    raise CRSError(
        f"{label}：坐标在 {name} 中不是地球上的位置，也不符合其他坐标系，{format_rows(listed, 10)}。请检查数值（多输位数、单位）和坐标系（--sites-crs）。",
        f"{label}: coordinates are not a place on Earth in {name} nor in any CRS: {format_rows(listed, 10)}; check the numbers and --sites-crs",
    )


def _numeric(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def choose_pair(
    df: pd.DataFrame,
    label: str,
    rows: Sequence[str],
    lonlat: tuple[str, str],
    xy: tuple[str, str],
    sites_crs: str | None,
    coords: str | None,
) -> str:
    """Decide which coordinate pair of a table holding both lon/lat and X/Y columns to use.

    ``coords`` decides when given.  Otherwise the pairs must agree (X/Y read
    in ``sites_crs``, or in any CGCS2000 Gauss-Kruger zone, either axis
    order, within 10 m of the lon/lat); then the pair ``sites_crs`` describes
    is used (X/Y for a projected CRS, else lon/lat).

    Parameters
    ----------
    df : DataFrame
        The table.
    label : str
        File name for messages.
    rows : sequence of str
        Row labels as the user sees them.
    lonlat, xy : (str, str)
        Column names of the two pairs.
    sites_crs : str, optional
        ``--sites-crs``.
    coords : {'lonlat', 'xy'}, optional
        ``--coords``.

    Returns
    -------
    str
        ``'lonlat'`` or ``'xy'``.

    Raises
    ------
    InputError
        The pairs disagree and no choice was made.
    """
    from spatial.crs import gk_alternatives
    from spatial.webcrs import parse_crs_alias

    user = None
    if sites_crs is not None:
        kind, user = parse_crs_alias(sites_crs)
        if kind in ("gcj02", "bd09"):
            user = CRS.from_epsg(4326)
    if coords is not None:
        if coords == "lonlat" and user is not None and user.is_projected:
            raise CRSError(
                f"{label}：--coords lonlat 用的是经纬度列，但 --sites-crs {sites_crs} 是投影坐标系。请去掉 --sites-crs 或给经纬度坐标系（wgs84、cgcs2000、gcj02）。",
                f"{label}: --coords lonlat reads degree columns but --sites-crs {sites_crs} is projected",
            )
        return coords
    lo, la = _numeric(df[lonlat[0]]), _numeric(df[lonlat[1]])
    xv, yv = _numeric(df[xy[0]]), _numeric(df[xy[1]])
    both = np.isfinite(lo) & np.isfinite(la) & np.isfinite(xv) & np.isfinite(yv) & (np.abs(la) <= 90) & (np.abs(lo) <= 180)
    prefer = "xy" if user is not None and user.is_projected else "lonlat"
    if not both.any():
        return prefer
    cand: list[tuple[CRS, np.ndarray, np.ndarray]] = []
    if user is not None and user.is_projected:
        cand = [(user, xv[both], yv[both]), (user, yv[both], xv[both])]
    else:
        for a, b in ((xv[both], yv[both]), (yv[both], xv[both])):
            cand += [(c, ax, ay) for _, c, ax, ay in gk_alternatives(a, b, CRS.from_epsg(4547))]
    for crs, ax, ay in cand:
        px, py = Transformer.from_crs(4326, crs, always_xy=True).transform(lo[both], la[both], errcheck=False)
        if np.all(np.hypot(px - ax, py - ay) < 10.0):
            return prefer
    i = int(np.flatnonzero(both)[0])
    raise InputError(
        f"{label} 同时有经纬度（{lonlat[0]}/{lonlat[1]}）和 X/Y（{xy[0]}/{xy[1]}）两组坐标，但两者不一致"
        f"（行 {rows[i]}：经纬度 ({lo[i]:g}, {la[i]:g})，X/Y ({xv[i]:g}, {yv[i]:g})）。"
        "请用 --coords lonlat 或 --coords xy 指定使用哪一组（用 X/Y 时加 --sites-crs，如 EPSG:4547）。",
        f"{label} has both lon/lat ({lonlat[0]}/{lonlat[1]}) and X/Y ({xy[0]}/{xy[1]}) columns and they disagree "
        f"(row {rows[i]}); choose with --coords lonlat or --coords xy (with --sites-crs for X/Y)",
    )


def check_text_table(raw: bytes, label: str) -> None:
    """Stop on a CSV that is empty or UTF-16 encoded, saying how to save it.

    Parameters
    ----------
    raw : bytes
        The file's bytes.
    label : str
        File name for messages.

    Raises
    ------
    InputError
        Naming the file and the fix.
    """
    if not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(
            f"{label} 是空文件（没有表头和数据）。请确认导出是否完整，表头需有 经度/纬度（或 X/Y、WKT）和项目类型列。",
            f"{label} is empty (no header, no rows); re-export it with lon/lat (or X/Y, WKT) and project-type columns",
        )
    head = raw[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:200].count(b"\x00") > 20:
        raise InputError(
            f"{label} 是 UTF-16 编码（Excel“Unicode 文本”格式）。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重试。",
            f"{label} is UTF-16 encoded (Excel 'Unicode text'); save it as 'CSV UTF-8 (comma delimited)' and retry",
        )


def parse_wkt(values: pd.Series, rows: Sequence[str], label: str) -> np.ndarray:
    """Parse a WKT column, naming every row whose text is not valid WKT.

    Parameters
    ----------
    values : Series
        WKT strings.
    rows : sequence of str
        Row labels as the user sees them.
    label : str
        File name for messages.

    Returns
    -------
    ndarray of geometries
        One per row (None where the cell is empty).

    Raises
    ------
    InputError
        Listing the rows with a syntax error and the start of their text.
    """
    text = values.astype("string").fillna("").str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        geoms = shapely.from_wkt(text.where(text != "", None).to_numpy(dtype=object), on_invalid="ignore")
    bad = np.flatnonzero((text != "").to_numpy() & pd.isna(geoms))
    if len(bad):
        listed = [f"{rows[i]}: {text.iloc[i][:40]!r}" for i in bad]
        raise InputError(
            f"{label}：WKT 列有语法错误，行：{format_rows(listed, 10)}。请改正为如 POLYGON ((x1 y1, x2 y2, x3 y3, x1 y1)) 的格式（括号成对、坐标用空格分隔、逗号分隔各点）。",
            f"{label}: WKT syntax errors in rows {format_rows(listed, 10)}; write e.g. POLYGON ((x1 y1, x2 y2, x3 y3, x1 y1))",
        )
    return geoms
