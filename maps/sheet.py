"""A picture drawn straight onto matplotlib's Agg renderer: paths, markers and text, without artists.

The 附图 used to build a matplotlib ``Figure`` per map: an artist per layer
class, an annotation per label try, a legend, patches for the scale bar.  Most
of a map's CPU went into that bookkeeping (transforms, properties, stale
flags, a text laid out again for every measurement), not into pixels.  A
:class:`Sheet` draws the same primitives with the same rasteriser (Agg:
antialiased paths, hatches, dashes, markers) and the text-caching renderer of
:mod:`maps.agg_text`, and measures a string once per (text, size, weight).

Coordinates are pixels from the bottom left; a :class:`Frame` maps map units
(metres) into a rectangle of the sheet at equal scale and clips to it.  Each
drawing call takes a ``z``: calls are recorded and run bottom first when the
PNG is written, so callers draw in any order, as with matplotlib's zorder.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from maps import style as st

__all__ = ["Sheet", "Frame", "TextBox"]

#: Fonts in order of preference (Chinese first; matplotlib falls back glyph by glyph along the list).
FONTS = [*st.CJK_SANS, "DejaVu Sans"]
#: Pixels kept per thread and size: the renderer keeps its text caches from one map to the next.
_POOL = threading.local()
#: Measured strings: (text, size, weight, dpi) -> (width, height, descent) in pixels (and font metrics).
_MEASURED: dict[tuple[str, float, str, float], tuple[float, float, float]] = {}
_MAX_MEASURED = 8192
#: Pixels of picture parts kept by :meth:`Sheet.block` (key -> RGBA rows, bottom row first); emptied when full.
_BLOCKS: dict[Hashable, np.ndarray] = {}
_MAX_BLOCKS = 256

Rgba = tuple[float, float, float, float]


@cache
def rgba(colour: str | None, alpha: float | None = None) -> Rgba | None:
    """Return ``colour`` as an RGBA tuple (None for no colour or ``"none"``), with ``alpha`` when given."""
    if colour is None or colour == "none":
        return None
    from matplotlib.colors import to_rgba

    return tuple(to_rgba(colour, alpha))  # type: ignore[return-value]


@cache
def _families() -> list[str]:
    """Return the fonts of :data:`FONTS` installed here (matplotlib logs every family it cannot find)."""
    from matplotlib.font_manager import fontManager

    installed = {f.name for f in fontManager.ttflist}
    return [f for f in FONTS if f in installed] or ["DejaVu Sans"]


@cache
def _font(size: float, weight: str) -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=_families(), size=size, weight=weight)


@cache
def _marker(shape: str) -> Any:
    """Return the unit path of a matplotlib marker shape (``"X"``, ``"^"``, ``"D"``, ``"o"``, ``"s"``)."""
    from matplotlib.markers import MarkerStyle

    m = MarkerStyle(shape)
    return m.get_path().transformed(m.get_transform())


@dataclass(frozen=True)
class TextBox:
    """Where a string lies on the sheet, in pixels: left, bottom, right, top."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        """Width in pixels."""
        return self.x1 - self.x0

    def grown(self, sx: float, sy: float) -> TextBox:
        """Return the box scaled about its centre by ``sx`` and ``sy``."""
        cx, cy = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2
        hw, hh = (self.x1 - self.x0) * sx / 2, (self.y1 - self.y0) * sy / 2
        return TextBox(cx - hw, cy - hh, cx + hw, cy + hh)


class Sheet:
    """A white picture of a given size in centimetres, drawn onto a pooled Agg renderer.

    Parameters
    ----------
    width_cm, height_cm : float
        Size of the picture.
    dpi : float, default 150
        Resolution.
    """

    def __init__(self, width_cm: float, height_cm: float, dpi: float = 150) -> None:
        self.dpi = float(dpi)
        self.width = int(width_cm / 2.54 * dpi)
        self.height = int(height_cm / 2.54 * dpi)
        #: Pixels per point.
        self.px = self.dpi / 72.0
        self._ops: list[tuple[float, int, Callable[[Any], None]]] = []
        self._captures: list[tuple[Hashable, int, int, int, int]] = []

    # ------------------------------------------------------------------ recording

    def _add(self, z: float, op: Callable[[Any], None]) -> None:
        self._ops.append((z, len(self._ops), op))

    def _gc(self, r: Any, *, colour: Rgba | None = None, lw: float = 0.0, dash: Sequence[float] | None = None,
            clip: Any = None, hatch: str | None = None, hatch_colour: Rgba | None = None, cap: str | None = None) -> Any:  # fmt: skip
        gc = r.new_gc()
        if colour is not None:
            gc.set_foreground(colour, isRGBA=True)
        gc.set_linewidth(lw)
        if dash:
            gc.set_dashes(0, [d * max(lw, 1e-9) for d in dash])
        if clip is not None:
            gc.set_clip_rectangle(clip)
        if hatch:
            gc.set_hatch(hatch)
            gc.set_hatch_color(hatch_colour or colour or (0, 0, 0, 1))
            gc.set_hatch_linewidth(0.7)
        if cap:
            gc.set_capstyle(cap)
        return gc

    def paths(
        self, paths: Sequence[Any], transform: Any = None, *, face: Rgba | None = None, edge: Rgba | None = None,
        lw: float = 0.0, dash: Sequence[float] | None = None, hatch: str | None = None, clip: Any = None, z: float = 1,
    ) -> None:  # fmt: skip
        """Fill and/or stroke matplotlib paths in one Agg call.

        Parameters
        ----------
        paths : sequence of matplotlib.path.Path
            Paths, in the coordinates ``transform`` maps to pixels.
        transform : matplotlib.transforms.Affine2D, optional
            To pixels; default identity (paths in pixels).
        face, edge : tuple, optional
            RGBA fill and stroke colours (None: no fill / no stroke).
        lw : float
            Stroke width in points.
        dash : sequence of float, optional
            Dash pattern in units of the line width.
        hatch : str, optional
            Hatch pattern (e.g. ``"////"``), in the edge colour.
        clip : matplotlib.transforms.Bbox, optional
            Clip rectangle in pixels.
        z : float
            Drawing order (higher on top).
        """
        if not len(paths):
            return
        from matplotlib.transforms import IdentityTransform

        trans = (transform or IdentityTransform()).frozen()
        faces = np.asarray([face] if face is not None else np.zeros((0, 4)), dtype=float)
        edges = np.asarray([edge] if edge is not None and lw > 0 else np.zeros((0, 4)), dtype=float)
        dashes = [(0.0, [d * lw for d in dash])] if dash else [(0.0, None)]
        paths = list(paths)

        def op(r: Any) -> None:
            gc = self._gc(r, clip=clip, hatch=hatch, hatch_colour=edge)
            kw = {"hatchcolors": np.asarray([edge or (0, 0, 0, 1)], dtype=float)} if hatch else {}
            r.draw_path_collection(gc, trans, paths, np.zeros((0, 3, 3)), np.zeros((1, 2)), IdentityTransform().frozen(),
                                   faces, edges, np.asarray([lw], dtype=float), dashes, np.asarray([1], dtype=np.uint8),
                                   None, "screen", **kw)  # fmt: skip
            gc.restore()

        self._add(z, op)

    def polygon(self, xy: Any, *, face: Rgba | None = None, edge: Rgba | None = None, lw: float = 0.0,
                hatch: str | None = None, dash: Sequence[float] | None = None, z: float = 1) -> None:  # fmt: skip
        """Draw one closed polygon given in pixels (a legend swatch, the north arrow)."""
        from matplotlib.path import Path as MPath

        pts = np.asarray(xy, dtype=float)
        self.paths([MPath(np.vstack([pts, pts[:1]]), closed=True)], face=face, edge=edge, lw=lw, hatch=hatch, dash=dash, z=z)

    def rect(self, x0: float, y0: float, x1: float, y1: float, **kw: Any) -> None:
        """Draw a rectangle given in pixels (keywords as :meth:`polygon`)."""
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], **kw)

    def line(self, xy: Any, *, colour: Rgba, lw: float, z: float = 1, cap: str = "projecting") -> None:
        """Draw a polyline given in pixels (a legend swatch)."""
        from matplotlib.path import Path as MPath
        from matplotlib.transforms import IdentityTransform

        path = MPath(np.asarray(xy, dtype=float))

        def op(r: Any) -> None:
            gc = self._gc(r, colour=colour, lw=lw, cap=cap)
            r.draw_path(gc, path, IdentityTransform(), None)
            gc.restore()

        self._add(z, op)

    def markers(
        self, xy: Any, shape: str, size: float, *, face: Rgba | None, edge: Rgba | None, lw: float,
        halo: tuple[float, Rgba] | None = None, clip: Any = None, z: float = 50,
    ) -> None:  # fmt: skip
        """Stamp one marker shape at many points given in pixels.

        Parameters
        ----------
        xy : array-like, shape (n, 2)
            Marker centres in pixels.
        shape : str
            Matplotlib marker (``"X"``, ``"^"``, ``"D"``, ``"o"``, ``"s"``).
        size : float
            Marker width in points.
        face, edge : tuple
            RGBA fill and outline.
        lw : float
            Outline width in points.
        halo : (float, tuple), optional
            Width in points and colour of a stroke drawn under each marker.
        clip : Bbox, optional
            Clip rectangle.
        z : float
            Drawing order.
        """
        from matplotlib.path import Path as MPath
        from matplotlib.transforms import Affine2D, IdentityTransform

        pts = np.asarray(xy, dtype=float).reshape(-1, 2)
        if not len(pts):
            return
        marker, trans = _marker(shape), Affine2D().scale(size * self.px).frozen()
        where = MPath(pts)

        def op(r: Any) -> None:
            for colour, width in ([(halo[1], halo[0])] if halo else []) + [(edge, lw)]:
                gc = self._gc(r, colour=colour, lw=width if colour is not None else 0.0, clip=clip)
                r.draw_markers(gc, marker, trans, where, IdentityTransform().frozen(), face)
                gc.restore()

        self._add(z, op)

    def block(self, key: Hashable, box: tuple[float, float, float, float], draw: Callable[[], None], *, z: float) -> None:
        """Draw a part of the picture that lies alone on the white margin once per ``key``; copy its pixels after.

        The first picture with this part records it (``draw``) and keeps the pixels of ``box`` when it is
        drawn; a later picture of the same size copies them.  The same pixels, as long as nothing else is
        drawn in ``box`` (the legend right of the map, the source note under it) and ``key`` names all
        the part depends on.

        Parameters
        ----------
        key : hashable
            What the part shows (its texts, swatches and size).
        box : tuple of float
            Left, bottom, right, top in pixels: everything the part draws, with its antialiased edges.
        draw : callable
            Records the part's drawing on this sheet (called when the part is not kept yet).
        z : float
            Drawing order of the copy.
        """
        x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
        x1, y1 = min(self.width, math.ceil(box[2])), min(self.height, math.ceil(box[3]))
        full = (key, self.width, self.height, self.dpi, x0, y0, x1, y1)
        pixels = _BLOCKS.get(full)
        if pixels is None:
            draw()
            if x1 > x0 and y1 > y0:
                self._captures.append((full, x0, y0, x1, y1))
            return

        def op(r: Any) -> None:
            gc = r.new_gc()
            r.draw_image(gc, x0, y0, pixels)
            gc.restore()

        self._add(z, op)

    # ------------------------------------------------------------------ text

    def measure(self, text: str, size: float, weight: str = "normal") -> tuple[float, float, float]:
        """Return the width, height and descent of one line of ``text`` in pixels (cached)."""
        key = (text, size, weight, self.dpi)
        hit = _MEASURED.get(key)
        if hit is None:
            if len(_MEASURED) >= _MAX_MEASURED:
                _MEASURED.clear()
            hit = _MEASURED[key] = tuple(self._renderer().get_text_width_height_descent(text, _font(size, weight), ismath=False))  # type: ignore[assignment]
        return hit

    def _font_metrics(self, size: float, weight: str) -> tuple[float, float, float]:
        """Return the font's ascent, descent and line gap in pixels (from its tables, as matplotlib's ``Text``)."""
        key = ("\0metrics", size, weight, self.dpi)
        hit = _MEASURED.get(key)
        if hit is None:
            r = self._renderer()
            asc = desc = gap = None
            if hasattr(r, "_get_font_height_metrics"):
                asc, desc, gap = r._get_font_height_metrics(_font(size, weight))
            if asc is None or desc is None:  # no font tables: the extent of "lp"
                _w, h, desc = self.measure("lp", size, weight)
                asc, gap = h - desc, 0.0
            hit = _MEASURED[key] = (float(asc), float(desc), float(gap or 0.0))
        return hit

    def layout(self, x: float, y: float, text: str, *, size: float, weight: str = "normal", ha: str = "left",
               va: str = "baseline") -> tuple[TextBox, list[tuple[float, float, str]]]:  # fmt: skip
        r"""Lay out ``text`` (lines split at ``\\n``) aligned at ``(x, y)`` in pixels, as matplotlib's ``Text`` does.

        Each line is at least the font's ascent and descent tall (plus the line gap between lines).

        Returns
        -------
        (TextBox, list)
            The text's box, and (x, baseline y, line) of each line.
        """
        lines = text.split("\n")
        min_a, min_d, gap = self._font_metrics(size, weight)
        gap = gap if len(lines) > 1 else 0.0
        widths, drops = [], []  # drops: (ascent, descent) of each line
        for line in lines:
            w, h, d = self.measure(line, size, weight) if line else (0.0, 0.0, 0.0)
            widths.append(w)
            drops.append((max(h - d, min_a) + gap / 2, max(d, min_d) + gap / 2))
        width = max(widths)
        total = sum(a + d for a, d in drops)
        bottom = {"bottom": y, "top": y - total, "center": y - total / 2}.get(va, y - drops[-1][1])
        left = {"center": x - width / 2, "right": x - width}.get(ha, x)
        placed, top = [], bottom + total
        for line, w, (a, d) in zip(lines, widths, drops, strict=True):
            lx = {"center": x - w / 2, "right": x - w}.get(ha, x)
            placed.append((lx, top - a, line))
            top -= a + d
        return TextBox(left, bottom, left + width, bottom + total), placed

    def text(
        self, x: float, y: float, text: str, *, size: float, colour: str = "#111111", weight: str = "normal",
        ha: str = "left", va: str = "baseline", halo: float = 0.0, z: float = 60,
    ) -> TextBox:  # fmt: skip
        r"""Write ``text`` at ``(x, y)`` pixels and return its box.

        Parameters
        ----------
        x, y : float
            Anchor in pixels from the bottom left.
        text : str
            The string (``\\n`` breaks lines).
        size : float
            Font size in points.
        colour : str
            Text colour.
        weight : str
            ``"normal"`` or ``"bold"``.
        ha, va : str
            Horizontal (left, center, right) and vertical (baseline, bottom, center, top) alignment.
        halo : float
            Width in points of a white outline drawn under the text (0: none).
        z : float
            Drawing order.

        Returns
        -------
        TextBox
            Where the text lies.
        """
        box, lines = self.layout(x, y, text, size=size, weight=weight, ha=ha, va=va)
        fill, prop = rgba(colour), _font(size, weight)

        def op(r: Any) -> None:
            from matplotlib.path import Path as MPath
            from matplotlib.transforms import Affine2D

            for lx, base, line in lines:
                if not line:
                    continue
                # The pen starts on a whole pixel: each glyph is then rendered once (its bitmap kept) rather than
                # once per fraction of a pixel it lands on; the text moves by less than half a pixel.
                lx, base = round(lx), round(base)
                if halo:  # the glyphs' outlines stroked in white under them
                    verts, codes = r.text_outline(line, prop)
                    if len(verts):
                        gc = self._gc(r, colour=(1, 1, 1, 1), lw=halo)
                        r.draw_path(gc, MPath(verts, codes), Affine2D().translate(lx, base), fill)
                        gc.restore()
                gc = self._gc(r, colour=fill)
                r.draw_text(gc, lx, self.height - base, line, prop, 0)  # Agg's text takes y from the top (flipy)
                gc.restore()

        self._add(z, op)
        return box

    # ------------------------------------------------------------------ output

    def _renderer(self) -> Any:
        pool: dict[tuple[int, int, float], Any] = _POOL.__dict__.setdefault("pool", {})
        key = (self.width, self.height, self.dpi)
        r = pool.get(key)
        if r is None:
            from maps.agg_text import cached_text_renderer

            r = pool[key] = cached_text_renderer(self.width, self.height, self.dpi)
        return r

    def draw(self) -> Any:
        """Run the recorded drawing on a cleared white renderer and return it (RGBA buffer)."""
        r = self._renderer()
        r.clear()
        self.rect(0, 0, self.width, self.height, face=(1, 1, 1, 1), z=-1e9)
        for _z, _i, op in sorted(self._ops, key=lambda t: (t[0], t[1])):
            op(r)
        self._ops.pop()  # the background added above
        if self._captures:
            buf = np.asarray(r.buffer_rgba())
            if len(_BLOCKS) + len(self._captures) > _MAX_BLOCKS:
                _BLOCKS.clear()
            for key, x0, y0, x1, y1 in self._captures:
                _BLOCKS[key] = buf[self.height - y1 : self.height - y0, x0:x1][::-1].copy()  # Agg's draw_image: bottom row first
            self._captures = []
        return r

    def png(self, colours: int = 192) -> bytes:
        """Draw and return a palette PNG (a third of the RGB size, the same look for flat map colours).

        zlib level 3: the demo's 45 maps encode in 0.10 s instead of 0.16 s (level 4) and 0.26 s (level 6), for
        8 % more bytes than level 4 (1.73 MB against 1.60 MB).
        """
        from PIL import Image

        r = self.draw()
        img = Image.frombuffer("RGBA", (self.width, self.height), r.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        out = io.BytesIO()
        img.quantize(colors=colours, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", compress_level=3)
        return out.getvalue()


class Frame:
    """A map window on a :class:`Sheet`: map units drawn at equal scale into a rectangle, clipped to it.

    Parameters
    ----------
    sheet : Sheet
        The picture.
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` to show; the short side is widened to the rectangle's shape.
    rect : tuple of float
        ``(left, bottom, width, height)`` of the rectangle as fractions of the sheet.
    """

    def __init__(self, sheet: Sheet, bounds: tuple[float, float, float, float], rect: tuple[float, float, float, float]) -> None:
        from matplotlib.transforms import Affine2D, Bbox

        self.sheet = sheet
        x0, y0 = rect[0] * sheet.width, rect[1] * sheet.height
        w_px, h_px = rect[2] * sheet.width, rect[3] * sheet.height
        #: The rectangle in pixels (left, bottom, right, top).
        self.box = (x0, y0, x0 + w_px, y0 + h_px)
        self.clip = Bbox.from_extents(*self.box)
        minx, miny, maxx, maxy = bounds
        w, h = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        if w / h < w_px / h_px:
            w = h * w_px / h_px
        else:
            h = w * h_px / w_px
        #: The map extent shown, widened to the rectangle's shape: (minx, miny, maxx, maxy).
        self.extent = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        #: Pixels per map unit.
        self.scale = w_px / w
        self.transform = Affine2D().translate(-self.extent[0], -self.extent[1]).scale(self.scale).translate(x0, y0)
        sheet.rect(*self.box, face=rgba("#fbfbf8"), z=-1e6)
        sheet.rect(*self.box, edge=rgba("#666666"), lw=0.8, z=1e6)

    def to_px(self, xy: Any) -> np.ndarray:
        """Return map coordinates (n x 2) as pixels."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return (xy - np.asarray(self.extent[:2])) * self.scale + np.asarray(self.box[:2])

    def at(self, fx: float, fy: float) -> tuple[float, float]:
        """Return the pixel at fractions ``(fx, fy)`` of the rectangle."""
        x0, y0, x1, y1 = self.box
        return x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)

    def contains(self, box: TextBox) -> bool:
        """Whether ``box`` lies inside the rectangle (edges included)."""
        x0, y0, x1, y1 = self.box
        return x0 <= box.x0 and box.x1 <= x1 and y0 <= box.y0 and box.y1 <= y1

    def paths(self, paths: Sequence[Any], **kw: Any) -> None:
        """Draw paths in map units, clipped to the rectangle (keywords as :meth:`Sheet.paths`)."""
        self.sheet.paths(paths, self.transform, clip=self.clip, **kw)

    def markers(self, xy: Any, shape: str, size: float, **kw: Any) -> None:
        """Stamp markers at map coordinates, clipped to the rectangle (keywords as :meth:`Sheet.markers`)."""
        self.sheet.markers(self.to_px(xy), shape, size, clip=self.clip, **kw)
