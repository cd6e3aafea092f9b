"""The report's numbered 附图 as PNG: location, each zoning layer group, each site's inset.

Drawn with matplotlib's Agg rasteriser through :mod:`maps.sheet` (no tiles, no network), following planning-map
conventions:

* 生态保护红线: red outline with red hatching, so the layers underneath stay readable;
* site verdicts told apart by marker *shape* and a dark outline as well as
  colour (禁止 ✕, 限制 ▲, 关注 ◆, 符合 ●), each on a white halo, so a marker
  never vanishes on a same-coloured layer;
* labels for red-line patches, control units, rivers and townships where they
  fit, and collision-aware site labels (names, falling back to ids);
* a north arrow, a scale bar and a source note (底图：无) on every map.

Colours come from :mod:`maps.style`, the same as the interactive map.
"""

from __future__ import annotations

import os
import re
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from layers import draw_order, figure_layers
from layers.base import FIGURE_GROUPS
from maps import style as st
from maps.sheet import Frame, Sheet, TextBox, rgba
from spatial.engine.parallel import fork_is_safe, frozen_heap

__all__ = [
    "Labeller",
    "Figure",
    "LAYER_GROUPS",
    "VERDICT_MARKERS",
    "render_overview",
    "render_group",
    "render_site",
    "render_sites",
    "short_name",
]

#: Figures per layer group (title, layers), in 附图 order after the location map.
GROUP_TITLES = {
    "ecology": "生态保护红线、自然保护地及饮用水水源保护区分布图",
    "units": "环境管控单元及要素管控分区图",
    "land": "永久基本农田、城镇开发边界及生态廊道图",
}
#: The layers of each group come from their specs (``LayerSpec.report.figure``).
LAYER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple((GROUP_TITLES[g], figure_layers(g)) for g in FIGURE_GROUPS)
#: Bottom first: the layer specs' draw order (the boundary is drawn on its own).
_DRAW_ORDER = tuple(n for n in draw_order() if n != "boundary")
#: Verdict -> (marker, label): shapes differ so colour is never the only cue.
VERDICT_MARKERS: dict[str, tuple[str, str]] = {
    "prohibited": ("X", "禁止（不符合）"),
    "restricted": ("^", "限制（有条件符合）"),
    "notice": ("D", "关注（待核实）"),
    "compatible": ("o", "符合"),
}
_NICE = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000)
DPI = 150
_HATCH_RED = "#e60000"


@dataclass
class Figure:
    """One numbered 附图.

    Attributes
    ----------
    number : int
        附图 number.
    title : str
        Caption without the number.
    filename : str
        File name inside the figures folder.
    png : bytes
        The image.
    """

    number: int
    title: str
    filename: str
    png: bytes

    @property
    def caption(self) -> str:
        """Return ``附图N 标题``."""
        return f"附图{self.number} {self.title}"


def short_name(text: str, county: str = "") -> str:
    """Shorten a zone name for a map label (drop the county prefix and the kind suffix).

    Parameters
    ----------
    text : str
        Feature name, e.g. ``连州市南岭山地生物多样性维护生态保护红线``.
    county : str, optional
        County name to drop from the front.

    Returns
    -------
    str
        E.g. ``南岭山地生物多样性维护``.
    """
    t = str(text or "")
    if county and t.startswith(county) and len(t) > len(county) + 1:
        t = t[len(county) :]
    return re.sub(r"(生态保护红线|饮用水水源保护区)$", "", t) or t


# --------------------------------------------------------------------------- drawing helpers


def _colour(style: Mapping[str, Any], key: str, default: str) -> str:
    return str(style.get(key) or default)


def _polys(geoms: np.ndarray) -> Any:
    """Matplotlib paths of polygonal geometries, one per polygon part (holes kept), vectorised."""
    from matplotlib.path import Path as MPath

    polys = geoms[shapely.get_dimensions(geoms) == 2]
    if not len(polys):
        return []
    parts = shapely.get_parts(polys)
    parts = parts[shapely.get_type_id(parts) == 3]
    rings, owner = shapely.get_rings(parts, return_index=True)  # a part's rings come together: exterior, then holes
    xy, ring_idx = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return []
    splits = np.flatnonzero(np.diff(ring_idx)) + 1
    codes = np.full(len(xy), MPath.LINETO, dtype=np.uint8)
    codes[np.r_[0, splits]] = MPath.MOVETO
    codes[np.r_[splits - 1, len(xy) - 1]] = MPath.CLOSEPOLY
    cuts = np.flatnonzero(np.diff(owner[ring_idx])) + 1  # where the next part's vertices start
    return [MPath(v, c) for v, c in zip(np.split(xy, cuts), np.split(codes, cuts), strict=True)]


def _lines(geoms: np.ndarray) -> list[Any]:
    """Matplotlib paths of the linear geometries (one per part)."""
    from matplotlib.path import Path as MPath

    lines = geoms[shapely.get_dimensions(geoms) == 1]
    if not len(lines):
        return []
    parts = shapely.get_parts(lines)
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    splits = np.flatnonzero(np.diff(idx)) + 1
    return [MPath(seg) for seg in np.split(xy, splits)]


#: Dash pattern of dashed outlines, in line widths.
_DASH = (4.0, 2.5)
_WHITE = (1.0, 1.0, 1.0, 1.0)


def _draw_polygons(frame: Frame, geoms: np.ndarray, style: Mapping[str, Any], *, hatch: str | None = None, z: float = 1) -> None:
    paths = _polys(geoms)
    if not paths:
        return
    edge = _colour(style, "color", "#333333")
    filled = style.get("fill", True) is not False and not hatch
    lw = min(float(style.get("weight", 1.0)), 2.5) * 0.7
    dash = _DASH if style.get("dashArray") else None
    if filled:
        frame.paths(paths, face=rgba(_colour(style, "fillColor", edge), float(style.get("fillOpacity", 0.3))), z=z)
        frame.paths(paths, edge=rgba(edge), lw=lw, dash=dash, z=z + 0.1)
    else:
        frame.paths(paths, edge=rgba(edge), lw=lw, dash=dash, hatch=hatch, z=z)


def _draw_lines(frame: Frame, geoms: np.ndarray, style: Mapping[str, Any], z: float = 3) -> None:
    segs = _lines(geoms)
    if segs:
        lw = min(float(style.get("weight", 2.0)), 3.0) * 0.6
        frame.paths(segs, edge=rgba(_colour(style, "color", "#1f78b4")), lw=lw, z=z)


@dataclass
class _Layer:
    """A zoning layer as the 附图 draw it: geometries, legend keys, names and reach zones, worked out once."""

    frame: Any
    geoms: np.ndarray
    keys: np.ndarray
    zones: np.ndarray | None = None
    names: np.ndarray | None = None
    rivers: np.ndarray | None = None

    def label_fields(self, name: str) -> tuple[np.ndarray | None, np.ndarray]:
        """Label text of every feature (None: the layer has no name field) and which are rivers."""
        if self.names is None:
            from layers import REGISTRY

            frame = self.frame
            spec = REGISTRY.get(name)
            col = spec.name_field if spec is not None and spec.name_field in frame else ("name" if "name" in frame else None)
            names = frame[col].astype("string").fillna("").to_numpy(dtype=object) if col is not None else None
            rivers = (frame["kind"].astype(str).to_numpy() == "river") if "kind" in frame else np.ones(len(frame), bool)
            self.names, self.rivers = (names, rivers)
        return self.names, self.rivers

    def reach(self, spec: Any) -> np.ndarray:
        """Reach zone of every feature (computed on first use: county maps do not draw them)."""
        if self.zones is None:
            self.zones = np.asarray(spec.reach_zones(self.frame).values, dtype=object)
        return self.zones


#: Prepared layers by ``id`` of the layer frame, with a weak reference telling when the frame is gone.
_LAYERS: dict[int, tuple[Any, _Layer]] = {}


def _layer(zoning: Any, name: str) -> _Layer | None:
    """Return the prepared layer ``name`` of ``zoning`` (None when absent or empty), reused across a run's maps."""
    frame = zoning.layers.get(name)
    if frame is None or not len(frame):
        return None
    hit = _LAYERS.get(id(frame))
    if hit is not None and hit[0]() is frame:
        return hit[1]
    if len(_LAYERS) > 256:
        _LAYERS.clear()
    prepared = _Layer(frame, np.asarray(frame.geometry.values, dtype=object), st.class_keys(name, frame))
    _LAYERS[id(frame)] = (weakref.ref(frame), prepared)
    return prepared


def _in_window(layer: _Layer, window: Any | None) -> np.ndarray | None:
    """Positions of the features meeting ``window`` in layer order (None: no window, every feature)."""
    if window is None:
        return None
    return np.sort(layer.frame.sindex.query(window, predicate="intersects"))


def _draw_zoning(frame: Frame, zoning: Any, layers: Iterable[str], window: Any | None, keys_out: list[str]) -> None:
    """Draw the given layers (bottom first), clipped to ``window`` when given."""
    wanted = set(layers)
    for z_index, name in enumerate(_DRAW_ORDER):
        layer = _layer(zoning, name) if name in wanted else None
        if layer is None:
            continue
        idx = _in_window(layer, window)
        if idx is not None and not len(idx):
            continue
        geoms = layer.geoms if idx is None else shapely.clip_by_rect(layer.geoms[idx], *shapely.bounds(window))
        keys = layer.keys if idx is None else layer.keys[idx]
        for key in dict.fromkeys(keys):
            sel = geoms[keys == key]
            style = st.class_style(key)
            if name == "redline":
                _draw_polygons(frame, sel, {"color": _HATCH_RED, "weight": 1.6}, hatch="////", z=10 + z_index)
            elif zoning.spec(name).reach is not None:
                if idx is not None:  # buffers are metres wide: visible only on an inset
                    zones = shapely.clip_by_rect(layer.reach(zoning.spec(name))[idx][keys == key], *shapely.bounds(window))
                    bkey = f"{key}{st.BUFFER_SUFFIX}"
                    _draw_polygons(frame, zones, st.class_style(bkey), z=2 + z_index)
                    keys_out.append(bkey)
                _draw_lines(frame, sel, style, z=20)
            elif shapely.get_dimensions(sel).max(initial=-1) == 0:
                frame.markers(shapely.get_coordinates(sel), "s", 14**0.5, face=rgba(_colour(style, "fillColor", "#666")),
                              edge=rgba("#333333"), lw=1.0, z=21)  # fmt: skip
            else:
                _draw_polygons(frame, sel, style, z=2 + z_index)
                _draw_lines(frame, sel, style, z=2 + z_index)
            keys_out.append(key)


def _draw_boundary_and_towns(frame: Frame, zoning: Any, window: Any | None) -> None:
    town = zoning.layers.get("town")
    if town is not None and len(town):
        g = np.asarray(town.geometry.values, dtype=object)
        if window is not None:
            g = shapely.clip_by_rect(g, *shapely.bounds(window))
        _draw_polygons(frame, g, {"color": "#8c8c8c", "weight": 0.9, "fill": False, "dashArray": "3 3"}, z=30)
    b = zoning.layers.get("boundary")
    if b is not None and len(b):
        g = np.asarray(b.geometry.values, dtype=object)
        if window is not None:
            g = shapely.clip_by_rect(g, *shapely.bounds(window))
        _draw_polygons(frame, g, {"color": "#000000", "weight": 2.6, "fill": False}, z=31)


def _verdict_colour(v: str) -> str:
    return st.VERDICT_COLOURS.get(v, st.UNSCREENED_COLOUR)


def _draw_sites(frame: Frame, geoms: np.ndarray, verdicts: Sequence[str], *, size: float, outline: bool) -> np.ndarray:
    """Draw sites: polygons/lines in their verdict colour (inset), a shaped marker at each anchor.

    ``size`` is the marker's area in square points.  Returns the marker anchors (n x 2).
    """
    verdicts = np.asarray(verdicts, dtype=object)
    if outline:
        for v in dict.fromkeys(verdicts):
            sel = geoms[verdicts == v]
            c = _verdict_colour(v)
            paths = _polys(sel)
            frame.paths(paths, face=rgba(c, 0.25), z=40)
            frame.paths(paths, edge=_WHITE, lw=4.5, z=41)
            frame.paths(paths, edge=rgba(c), lw=2.2, z=42)
            segs = _lines(sel)
            frame.paths(segs, edge=_WHITE, lw=5.5, z=41)
            frame.paths(segs, edge=rgba(c), lw=2.8, z=42)
    anchors = shapely.get_coordinates(shapely.point_on_surface(geoms))
    # Above INDEX_LABEL_MAX sites every marker's white halo goes under every marker (one stamp per verdict):
    # halos then never cover a neighbouring marker of another verdict drawn earlier.
    many = len(anchors) > INDEX_LABEL_MAX
    for v in dict.fromkeys(verdicts):
        sel = verdicts == v
        marker = VERDICT_MARKERS.get(v, ("s", ""))[0]
        if many:
            frame.markers(anchors[sel], marker, size**0.5, face=_WHITE, edge=_WHITE, lw=3.2, z=49)
        frame.markers(anchors[sel], marker, size**0.5, face=rgba(_verdict_colour(v)), edge=rgba("#111111"), lw=1.1,
                      halo=None if many else (3.2, _WHITE), z=50)  # fmt: skip
    return anchors


class Labeller:
    """Greedy, collision-aware label placement in pixels.

    Parameters
    ----------
    frame : maps.sheet.Frame
        The map window labels are placed in (a label lies wholly inside it).
    """

    _OFFSETS = ((7, 5, "left", "bottom"), (7, -5, "left", "top"), (-7, 5, "right", "bottom"), (-7, -5, "right", "top"),
                (0, 9, "center", "bottom"), (0, -9, "center", "top"), (10, 0, "left", "center"), (-10, 0, "right", "center"))  # fmt: skip

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.sheet = frame.sheet
        self._parts: list[np.ndarray] = []  # reserved boxes in pixels, (n, 4) x0 y0 x1 y1 with x0 <= x1, y0 <= y1
        self._all = np.zeros((0, 4))

    def _reserve(self, boxes: Any) -> None:
        self._parts.append(np.asarray(boxes, dtype=float).reshape(-1, 4))

    @property
    def boxes(self) -> np.ndarray:
        """The reserved boxes in pixels, one row each: x0, y0, x1, y1."""
        if self._parts:
            self._all = np.concatenate([self._all, *self._parts])
            self._parts = []
        return self._all

    def _taken(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether the box meets a reserved one (edges touching count)."""
        b = self.boxes
        return bool(np.any((x0 <= b[:, 2]) & (b[:, 0] <= x1) & (y0 <= b[:, 3]) & (b[:, 1] <= y1)))

    def block(self, xy: np.ndarray, radius_px: float = 6.0) -> None:
        """Reserve space around markers (map coordinates) so labels do not cover them."""
        at = self.frame.to_px(xy)
        self._reserve(np.column_stack([at - radius_px, at + radius_px]))

    def block_axes(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Reserve a rectangle given in fractions of the map window (the north arrow, the scale bar)."""
        (a, b), (c, d) = self.frame.at(x0, y0), self.frame.at(x1, y1)
        self._reserve([min(a, c), min(b, d), max(a, c), max(b, d)])

    def place(
        self, x: float, y: float, texts: Sequence[str], *, size: float = 7.5, colour: str = "#111111", weight: str = "normal",
        centred: bool = False, fit_px: float | None = None,
    ) -> bool:  # fmt: skip
        """Place the first text variant at the first free position around map point ``(x, y)``; False when none fits."""
        (ax_, ay_), = self.frame.to_px([x, y])
        bx0, by0, bx1, by1 = self.frame.box
        if not (bx0 <= ax_ <= bx1 and by0 <= ay_ <= by1):  # the point is off the map: no label
            return False
        offsets = ((0, 0, "center", "center"),) if centred else self._OFFSETS
        pt = self.sheet.px
        for text in texts:
            for dx, dy, ha, va in offsets:
                tx, ty = ax_ + dx * pt, ay_ + dy * pt
                bb, _lines = self.sheet.layout(tx, ty, text, size=size, weight=weight, ha=ha, va=va)
                if (self.frame.contains(bb) and (fit_px is None or bb.width <= fit_px)
                        and not self._taken(bb.x0, bb.y0, bb.x1, bb.y1)):  # fmt: skip
                    g = bb.grown(1.04, 1.15)
                    self._reserve([g.x0, g.y0, g.x1, g.y1])
                    self.sheet.text(tx, ty, text, size=size, colour=colour, weight=weight, ha=ha, va=va, halo=2.4, z=60)
                    return True
        return False


def _nice_length(width_m: float) -> float:
    target = width_m / 5
    return max((n for n in _NICE if n <= target), default=_NICE[0])


#: Where the north arrow sits, in fractions of the map window (x0, y0, x1, y1): labels keep out.
NORTH_ARROW_BOX = (0.9, 0.83, 0.98, 0.98)


def _scale_bar_box(frame: Frame) -> tuple[float, float, float, float]:
    """Return the scale bar's area in fractions of the map window (labels keep out)."""
    x0, _y0, x1, _y1 = frame.extent
    frac = _nice_length(x1 - x0) / (x1 - x0)
    return (0.02, 0.02, 0.04 + frac + 0.05, 0.13)


def _keep_out(lab: Labeller, frame: Frame) -> None:
    lab.block_axes(*NORTH_ARROW_BOX)
    lab.block_axes(*_scale_bar_box(frame))


def _scale_bar(frame: Frame) -> None:
    sheet = frame.sheet
    x0, y0, x1, y1 = frame.extent
    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    (a, b), (c, d) = frame.to_px([(bx - (x1 - x0) * 0.015, by - h * 1.6), (bx + length + (x1 - x0) * 0.015, by + h * 3.8)])
    sheet.rect(a, b, c, d, face=rgba("white", 0.85), z=70)
    half = length / 2
    for i, colour in enumerate(("#111111", "white")):
        (a, b), (c, d) = frame.to_px([(bx + i * half, by), (bx + (i + 1) * half, by + h)])
        sheet.rect(a, b, c, d, face=rgba(colour), edge=rgba("#111111"), lw=0.8, z=71)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    (a, b), (c, _d) = frame.to_px([(bx, by + h * 1.5), (bx + length, by + h * 1.5)])
    sheet.text(a, b, "0", size=6.5, ha="center", va="bottom", z=72)
    sheet.text(c, b, label, size=6.5, ha="center", va="bottom", z=72)


def _north_arrow(frame: Frame) -> None:
    sheet = frame.sheet
    left = [frame.at(*p) for p in ((0.94, 0.965), (0.915, 0.885), (0.94, 0.905))]
    right = [frame.at(*p) for p in ((0.94, 0.965), (0.965, 0.885), (0.94, 0.905))]
    sheet.polygon(left, face=rgba("#111111"), edge=rgba("#111111"), lw=1.0, z=72)
    sheet.polygon(right, face=_WHITE, edge=rgba("#111111"), lw=0.8, z=72)
    sheet.text(*frame.at(0.94, 0.87), "北", size=8, weight="bold", ha="center", va="top", z=72)


#: Legend layout in units of the font size, as matplotlib's legend defaults lay it out.
_HANDLE_LENGTH, _HANDLE_HEIGHT, _HANDLE_PAD, _BORDER = 1.8, 0.7, 0.8, 0.6


def _legend_rows(keys: Sequence[str], verdicts: Sequence[str], overlap: bool) -> list[tuple[str, dict[str, Any], str]]:
    """List the legend's rows: (swatch kind, swatch style, label), zoning classes first, then verdicts, overlap, boundary.

    Swatch kinds: ``patch`` (face, edge, lw, hatch, dash), ``line`` (colour, lw) and ``marker``
    (shape, size, face, edge), colours as RGBA.
    """
    rows: list[tuple[str, dict[str, Any], str]] = []
    for key, cs in st.legend_entries(list(dict.fromkeys(keys))):
        style = dict(cs.style)
        edge = style.get("color", "#333")
        if key in ("redline", "redline:land"):  # hatched as drawn (the marine red line keeps its own legend)
            swatch = ("patch", {"edge": rgba(_HATCH_RED), "hatch": "////", "lw": 1.2})
        elif cs.kind == "line":
            swatch = ("line", {"colour": rgba(edge), "lw": 2.0})
        elif cs.kind == "outline":
            swatch = ("patch", {"edge": rgba(edge), "dash": (3.7, 1.6) if style.get("dashArray") else None, "lw": 1.2})
        else:
            alpha = min(1.0, float(style.get("fillOpacity", 0.3)) * 1.4 + 0.1)
            swatch = ("patch", {"face": rgba(style.get("fillColor", "#ccc"), alpha), "edge": rgba(edge, alpha), "lw": 0.8})
        layer_zh = st.layer_label(key.split(":")[0])[0]
        if cs.label_zh == key:  # a layer kind without its own legend class: its Chinese name
            label = layer_zh
        elif ":" not in key or key.split(":")[0] in ("redline", "farmland", "urban_boundary", "control_unit"):
            label = cs.label_zh
        else:
            label = f"{layer_zh}·{cs.label_zh}"
        rows.append((*swatch, label))
    for v in VERDICT_MARKERS:
        if v in verdicts:
            m, text = VERDICT_MARKERS[v]
            rows.append(("marker", {"shape": m, "size": 7.0, "face": rgba(_verdict_colour(v)), "edge": rgba("#111111")}, f"项目：{text}"))
    if overlap:
        rows.append(("patch", {"face": rgba("#7a0177", 0.55), "edge": rgba("#7a0177", 0.55), "lw": 1.0}, "项目与分区重叠部分"))
    rows.append(("line", {"colour": rgba("#000000"), "lw": 2.0}, "县（市、区）界"))
    return rows


def _legend(sheet: Sheet, keys: Sequence[str], verdicts: Sequence[str], note: str, *, loc_x: float, overlap: bool = False) -> None:
    """Draw the legend (图例) right of the map and the source note under it.

    The rows are measured once per font size; the size shrinks by 0.5 pt from 7 pt until the
    legend lies inside the picture, right of the map and above the note (4.5 pt at least).
    Each row is one swatch and one text.
    """
    rows = _legend_rows(keys, verdicts, overlap)
    note_box = _fitted_note(sheet, note)
    floor = note_box.y1 + 2 if note_box is not None else 0.0
    width, height = sheet.width, sheet.height
    size = 7.0
    while True:
        fs = size * sheet.px
        x0, top = loc_x * width + _BORDER * fs, 0.98 * height - _BORDER * fs
        title_w, title_h, _d = sheet.measure("图例", size + 1)
        label_w = max(sheet.measure(label, size)[0] for *_s, label in rows)
        pitch = fs * (1.0 + 0.45 * size / 7)
        need_h = title_h + 0.5 * fs + len(rows) * pitch
        need_w = max(title_w, (_HANDLE_LENGTH + _HANDLE_PAD) * fs + label_w)
        if (x0 + need_w <= width - 2 and top - need_h >= floor) or size <= 4.5:
            break
        size -= 0.5
    hl, hh = _HANDLE_LENGTH * fs, _HANDLE_HEIGHT * fs
    label_x = x0 + (_HANDLE_LENGTH + _HANDLE_PAD) * fs

    def draw() -> None:
        sheet.text(x0, top, "图例", size=size + 1, va="top", z=80)
        for i, (kind, sw, label) in enumerate(rows):
            yc = top - title_h - 0.5 * fs - (i + 0.5) * pitch
            if kind == "patch":
                sheet.rect(x0, yc - hh / 2, x0 + hl, yc + hh / 2, face=sw.get("face"), edge=sw.get("edge"), lw=sw["lw"],
                           hatch=sw.get("hatch"), dash=sw.get("dash"), z=80)  # fmt: skip
            elif kind == "line":
                sheet.line([(x0, yc), (x0 + hl, yc)], colour=sw["colour"], lw=sw["lw"], z=80)
            else:
                sheet.markers([(x0 + hl / 2, yc)], sw["shape"], sw["size"], face=sw["face"], edge=sw["edge"], lw=1.0, z=80)
            sheet.text(label_x, yc, label, size=size, va="center", z=80)

    # The legend lies alone right of the map: drawn once per set of rows, copied on the next map with them.
    last = top - title_h - 0.5 * fs - len(rows) * pitch
    pad = 3 + 1.2 * sheet.px  # antialiased edges, half a swatch's stroke, a marker's outline
    box = (x0 - pad, min(last, top - need_h) - pad, max(x0 + need_w, label_x + label_w) + pad, top + pad)
    sheet.block(("legend", repr(rows), size, x0, top), box, draw, z=80)


#: Wrapped notes by (note, width in pixels): every map of a run carries the same note.
_NOTE_LINES: dict[tuple[str, float], str] = {}


def _fitted_note(sheet: Sheet, note: str) -> TextBox | None:
    """Write the source note at the bottom, wrapped (at ｜ and 、, else anywhere) so no line runs past the right edge."""
    if not note:
        return None
    width = sheet.width * 0.97
    key = (note, round(width, 3))
    if key not in _NOTE_LINES:
        if len(_NOTE_LINES) > 64:
            _NOTE_LINES.clear()
        _NOTE_LINES[key] = _wrap_note(sheet, note, width)
    lines = _NOTE_LINES[key]
    x, y = 0.01 * sheet.width, 0.012 * sheet.height
    box, _lines = sheet.layout(x, y, lines, size=6, va="bottom")
    # Every map of a run carries the same note, alone under the map: drawn once, copied after.
    sheet.block(("note", lines), (box.x0 - 3, box.y0 - 3, box.x1 + 3, box.y1 + 3),
                lambda: sheet.text(x, y, lines, size=6, colour="#444444", va="bottom", z=80), z=80)  # fmt: skip
    return box


def _wrap_note(sheet: Sheet, note: str, width: float) -> str:
    """Break ``note`` into lines no wider than ``width`` pixels at 6 pt."""

    def fits(text: str) -> bool:
        return sheet.measure(text, 6)[0] <= width

    tokens = [t for t in re.split(r"(?<=[｜、，])", note) if t]
    lines: list[str] = [""]
    for tok in tokens:
        if fits(lines[-1] + tok):
            lines[-1] += tok
            continue
        if lines[-1]:
            lines.append("")
        while tok:  # a token longer than a line: break it anywhere, as late as fits (a binary search, not a try per character)
            lo, hi = 1, len(tok)  # the line takes tok[:lo] (at least a character), tok[:hi + 1] is too long
            if fits(tok):
                lo = hi
            else:
                hi -= 1
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if fits(tok[:mid]) else (lo, mid - 1)
            lines[-1] += tok[:lo]
            tok = tok[lo:]
            if tok:
                lines.append("")
    return "\n".join(lines)


def _zone_labels(lab: Labeller, zoning: Any, layers: Iterable[str], county: str, window: Any | None) -> None:
    """Labels for red-line patches, units, rivers and townships, where they fit."""
    px_per_m = lab.frame.scale
    wanted = [n for n in ("redline", "control_unit", "corridor", "town") if n in set(layers) | {"town"}]
    for name in wanted:
        layer = _layer(zoning, name)
        if layer is None:
            continue
        idx = _in_window(layer, window)
        if idx is not None and not len(idx):
            continue
        all_names, rivers = layer.label_fields(name)
        if all_names is None:
            continue
        geoms = layer.geoms if idx is None else shapely.clip_by_rect(layer.geoms[idx], *shapely.bounds(window))
        names = all_names if idx is None else all_names[idx]
        if name == "corridor":
            keep = rivers if idx is None else rivers[idx]
            pts = shapely.line_interpolate_point(shapely.line_merge(shapely.get_geometry(geoms, 0)), 0.5, normalized=True)
            for (x, y), text, k in zip(shapely.get_coordinates(pts), names, keep, strict=True):
                if k and text:
                    lab.place(x, y, [text], size=7, colour="#08519c")
            continue
        pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
        b = shapely.bounds(geoms)
        widths = (b[:, 2] - b[:, 0]) * px_per_m
        order = np.argsort(-shapely.area(geoms))  # big patches first
        for i in order:
            text = short_name(names[i], county)
            if not text:
                continue
            if name == "town":
                lab.place(pts[i, 0], pts[i, 1], [text], size=7, colour="#555555", centred=True, fit_px=widths[i] * 1.2)
            elif name == "redline":
                lab.place(pts[i, 0], pts[i, 1], [text], size=6.5, colour="#b30000", centred=True, fit_px=widths[i])
            else:
                lab.place(pts[i, 0], pts[i, 1], [text], size=6.5, colour="#3f5f3f", centred=True, fit_px=widths[i])


#: Above this many sites the county maps label each site by its 序号 in the summary table (an index map).
INDEX_MAP_SITES = 15
#: Above this many sites the county maps show the markers without numbers.
INDEX_LABEL_MAX = 500


def _site_labels(
    lab: Labeller, anchors: np.ndarray, ids: Sequence[str], names: Sequence[str], *, size: float = 7.5, max_chars: int = 12
) -> None:
    for (x, y), sid, nm in zip(anchors, ids, names, strict=True):
        variants = [t for t in (nm if len(nm) <= max_chars else nm[: max_chars - 1] + "…", sid) if t]
        lab.place(x, y, list(dict.fromkeys(variants)), size=size, weight="bold")


def _county_name(zoning: Any) -> str:
    b = zoning.layers.get("boundary")
    if b is not None and len(b) and "name" in b:
        vals = b["name"].dropna().astype(str)
        return vals.iloc[0] if len(vals) else ""
    return ""


def _render(draw: Callable[[Sheet], None], size: tuple[float, float]) -> bytes:
    """Draw one picture of ``size`` (cm) with ``draw`` and return its PNG."""
    with warnings.catch_warnings():
        # A machine without a CJK font draws boxes; say so once in the note rather than per glyph.
        warnings.filterwarnings("ignore", message=r"Glyph .* missing", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont", category=UserWarning)
        sheet = Sheet(*size, dpi=DPI)
        draw(sheet)
        return sheet.png()


@dataclass
class _SiteSet:
    geoms: np.ndarray
    ids: list[str]
    names: list[str]
    verdicts: list[str]


def _site_set(sites: Any) -> _SiteSet:
    ids = sites["site_id"].astype(str).tolist()
    names = [
        str(n) if isinstance(n, str) and n.strip() else i
        for n, i in zip(sites["name"] if "name" in sites else ids, ids, strict=True)
    ]
    verdicts = sites["verdict"].astype(str).tolist() if "verdict" in sites else [""] * len(ids)
    return _SiteSet(np.asarray(sites.geometry.values, dtype=object), ids, names, verdicts)


def _county_map(zoning: Any, sites: Any, layers: Sequence[str], note: str, *, labels_for: Sequence[str]) -> bytes:
    ss = _site_set(sites)
    county = _county_name(zoning)
    b = zoning.layers.get("boundary")
    bounds = (
        tuple(shapely.total_bounds(np.asarray(b.geometry.values, dtype=object)))
        if b is not None and len(b)
        else tuple(shapely.total_bounds(ss.geoms))
    )

    def draw(sheet: Sheet) -> None:
        frame = Frame(sheet, bounds, (0.01, 0.06, 0.72, 0.92))
        keys: list[str] = []
        _draw_zoning(frame, zoning, layers, None, keys)
        _draw_boundary_and_towns(frame, zoning, None)
        anchors = _draw_sites(frame, ss.geoms, ss.verdicts, size=34, outline=False) if len(ss.geoms) else np.zeros((0, 2))
        lab = Labeller(frame)
        lab.block(anchors)
        _keep_out(lab, frame)
        if len(ss.ids) > INDEX_LABEL_MAX:  # too many to number legibly (and placing them is quadratic): markers only
            pass
        elif len(ss.ids) > INDEX_MAP_SITES:  # many sites: an index map, numbered as in the summary table
            _site_labels(lab, anchors, [str(i) for i in range(1, len(ss.ids) + 1)], [""] * len(ss.ids), size=6)
        else:
            _site_labels(lab, anchors, ss.ids, ss.names, size=6.5)
        _zone_labels(lab, zoning, labels_for, county, None)
        _scale_bar(frame)
        _north_arrow(frame)
        index = "｜图中数字为汇总表序号" if INDEX_MAP_SITES < len(ss.ids) <= INDEX_LABEL_MAX else ""
        if len(ss.ids) > INDEX_LABEL_MAX:
            index = f"｜地块超过 {INDEX_LABEL_MAX} 个，图中未标注序号"
        _legend(sheet, keys, ss.verdicts, note + index, loc_x=0.745)

    return _render(draw, (17.0, 12.5))


def render_overview(zoning: Any, sites: Any, note: str) -> bytes:
    """County location map: boundary, townships, red line and control units, every site.

    Parameters
    ----------
    zoning : Zoning
        The zoning package (working CRS).
    sites : GeoDataFrame
        Sites in the zoning CRS with ``site_id``, ``name``, ``verdict``.
    note : str
        Source note printed under the map (basemap, data, CRS).

    Returns
    -------
    bytes
        PNG.
    """
    return _county_map(zoning, sites, ("redline", "control_unit", "corridor"), note, labels_for=("corridor", "town"))


def render_group(zoning: Any, sites: Any, layers: Sequence[str], note: str) -> bytes:
    """County map of one layer group with every site.

    Parameters
    ----------
    zoning : Zoning
        The zoning package.
    sites : GeoDataFrame
        Sites in the zoning CRS.
    layers : sequence of str
        The group's layers.
    note : str
        Source note.

    Returns
    -------
    bytes
        PNG.
    """
    return _county_map(zoning, sites, layers, note, labels_for=layers)


def render_site(
    zoning: Any,
    site: Any,
    *,
    site_id: str,
    name: str,
    verdict: str,
    overlaps: Iterable[Any] = (),
    note: str = "",
    min_extent_m: float = 3000.0,
) -> bytes:
    """Inset map of one site over every zoning layer around it.

    Parameters
    ----------
    zoning : Zoning
        The zoning package.
    site : shapely.Geometry
        The site in the zoning CRS.
    site_id, name : str
        Label (name first, id when the name does not fit).
    verdict : str
        Internal verdict (marker shape and colour).
    overlaps : iterable of geometry
        Overlap parts to highlight.
    note : str, optional
        Source note.
    min_extent_m : float, default 3000
        Smallest window width (points get context).

    Returns
    -------
    bytes
        PNG.
    """
    minx, miny, maxx, maxy = shapely.bounds(site)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max((maxx - minx) * 1.3, (maxy - miny) * 1.3, min_extent_m) / 2
    window = shapely.box(cx - half * 1.9, cy - half, cx + half * 1.9, cy + half)
    layers = [n for n in _DRAW_ORDER if n in zoning.layers]
    county = _county_name(zoning)

    def draw(sheet: Sheet) -> None:
        frame = Frame(sheet, tuple(shapely.bounds(window)), (0.01, 0.1, 0.66, 0.88))
        keys: list[str] = []
        _draw_zoning(frame, zoning, layers, window, keys)
        _draw_boundary_and_towns(frame, zoning, window)
        ov = np.asarray([g for g in overlaps if g is not None and not shapely.is_empty(g)], dtype=object)
        if len(ov):
            _draw_polygons(frame, ov, {"color": "#7a0177", "weight": 2, "fillColor": "#7a0177", "fillOpacity": 0.45}, z=45)
            _draw_lines(frame, ov, {"color": "#7a0177", "weight": 5}, z=46)
        anchors = _draw_sites(frame, np.asarray([site], dtype=object), [verdict], size=80, outline=True)
        lab = Labeller(frame)
        lab.block(anchors, 8)
        _keep_out(lab, frame)
        _site_labels(lab, anchors, [site_id], [name], size=8.5, max_chars=24)
        _zone_labels(lab, zoning, layers, county, window)
        _scale_bar(frame)
        _north_arrow(frame)
        _legend(sheet, keys, [verdict], note, loc_x=0.69, overlap=bool(len(ov)))

    return _render(draw, (17.0, 6.6))


#: Fewest insets worth a second process.  The copy costs CPU to save wall time: the demo's 41 insets 0.2–0.3 s
#: more CPU (its report 4.3–4.4 s against 4.1–4.2 s in one process, pairs of fresh runs taken in turn) for 0.9 s
#: less wall (2.6 s against 3.5 s); a summary's 100 insets save more.  Where forking is not safe (a web worker) or no core is free,
#: one process draws them all.
PARALLEL_MIN_SITES = 8
#: The insets a forked process draws and the shared next-inset counter: set just before the fork, read by the
#: child (nothing is pickled in).
_BATCH: tuple[Any, Sequence[Mapping[str, Any]], Any] | None = None


def _core_free() -> bool:
    """Return True when the machine has a core to spare (1-minute load average below CPUs - 1/2).

    A second process only shortens the wall time when it gets a core of its own; on a busy
    machine it just adds CPU (its own caches, two processes competing for memory bandwidth).
    """
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1) - 0.5
    except OSError:  # no load average on this platform
        return False


def _take(counter: Any, n: int) -> int | None:
    """Claim the next inset to draw (shared by both processes), or None when all are claimed."""
    with counter.get_lock():
        i = int(counter.value)
        if i >= n:
            return None
        counter.value = i + 1
        return i


def _render_shared() -> dict[int, bytes]:
    """Draw insets of :data:`_BATCH` until none is left to claim (in the forked process)."""
    assert _BATCH is not None
    zoning, jobs, counter = _BATCH
    out: dict[int, bytes] = {}
    while (i := _take(counter, len(jobs))) is not None:
        out[i] = render_site(zoning, **jobs[i])
    return out


def render_sites(
    zoning: Any,
    jobs: Sequence[Mapping[str, Any]],
    *,
    workers: int | None = None,
    meanwhile: Callable[[], Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[bytes]:
    """Draw many insets (:func:`render_site` keyword arguments each); return the PNGs in order.

    With enough insets and a core to spare, a forked copy of this process draws insets
    while this one first runs ``meanwhile`` (the report model), then draws insets too:
    each process claims the next inset from a shared counter, so the work splits by what
    each gets done.  The same pixels in less wall time, for more CPU in all.  A fork happens
    only where it is safe (:func:`spatial.engine.parallel.fork_is_safe`) and when the load
    average leaves a core free (:func:`_core_free`); anything going wrong in the copy falls
    back to drawing here.

    Parameters
    ----------
    zoning : Zoning
        The zoning package.
    jobs : sequence of mapping
        Keyword arguments of :func:`render_site` per inset (``site``, ``site_id``, ``name``, ...).
    workers : int, optional
        1 draws everything here, 2 forks a copy; default 2 when there are at least
        :data:`PARALLEL_MIN_SITES` insets, forking is safe and a core is free.
    meanwhile : callable, optional
        Other work of the caller, run here once (before this process draws; while the copy draws).
    progress : callable, optional
        Called with the number of insets claimed so far (by either process) each time this process
        finishes one (when drawing alone: the number drawn).

    Returns
    -------
    list of bytes
        PNG of each inset, in the order of ``jobs``.
    """
    global _BATCH
    n = len(jobs)
    if workers is None:
        workers = 2 if n >= PARALLEL_MIN_SITES and (os.cpu_count() or 1) >= 2 and fork_is_safe() and _core_free() else 1
    tick = progress or (lambda _done: None)

    def alone() -> list[bytes]:
        if meanwhile is not None:
            meanwhile()
        out = []
        for job in jobs:
            out.append(render_site(zoning, **job))
            tick(len(out))
        return out

    if workers < 2 or n < 2:
        return alone()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The first inset is drawn here before the fork: the copy then starts with its canvas, fonts, glyphs and
    # legend texts ready instead of paying for them a second time.
    first = render_site(zoning, **jobs[0])
    tick(1)
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 1)
    _BATCH = (zoning, jobs, counter)
    # Objects alive now are left out of the copy's garbage collection: collecting would write to every
    # object's header and so copy the whole inherited heap page by page (seconds of CPU for nothing).
    with frozen_heap():
        try:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
            future = pool.submit(_render_shared)
        except Exception:  # no process could be started: everything here
            _BATCH = None
            if meanwhile is not None:
                meanwhile()
            out = [first]
            for job in jobs[1:]:
                out.append(render_site(zoning, **job))
                tick(len(out))
            return out
        theirs: dict[int, bytes] | None = None
        try:
            if meanwhile is not None:
                meanwhile()
            mine: dict[int, bytes] = {}
            while (i := _take(counter, n)) is not None:
                mine[i] = render_site(zoning, **jobs[i])
                tick(min(int(counter.value), n))
            try:
                theirs = future.result()
            except Exception:  # the copy failed (killed, out of memory): what it claimed is drawn here
                theirs = None
        finally:
            pool.shutdown(wait=theirs is not None, cancel_futures=True)
            _BATCH = None
    done = {0: first, **(theirs or {}), **mine}
    return [done[i] if i in done else render_site(zoning, **jobs[i]) for i in range(n)]
