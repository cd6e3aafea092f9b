"""An Agg canvas that remembers the text it has drawn: shaping, glyph bitmaps and text outlines.

The 附图 print the same strings over and over (the legend, the source note,
the north arrow, zone names), with a CJK font whose text shaping costs about
2 ms per string in matplotlib's Agg renderer.  The renderer here keeps, for
the life of the canvas:

* the shaped glyph run of each (font, size, string), so a string is shaped once;
* each upright glyph's bitmap per sub-pixel phase (1/64 px): FreeType
  renders a glyph moved by whole pixels into the same bitmap moved by those
  pixels, so a cached bitmap drawn at the shifted place gives the same
  pixels as drawing it again;
* the outline of each string drawn as a path (labels with a white halo).

The pixels are the same as the stock renderer's (checked by the figure tests
against a stock canvas).  Anything else (rotated or slanted text, math text, a
matplotlib without the private hooks used here) goes through the stock code.
"""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["cached_text_canvas"]

#: Cache sizes per canvas (entries); a cache is emptied when full, never grown past this.
_MAX_LAYOUTS = 4096
_MAX_GLYPHS = 65536
_MAX_PATHS = 2048


@cache
def _classes() -> tuple[type, type]:
    """Build the renderer and canvas classes (matplotlib is imported only when a figure is drawn)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
    from matplotlib.font_manager import fontManager, get_font
    from matplotlib.ft2font import RenderMode

    hooks = all(hasattr(RendererAgg, n) for n in ("_prepare_font", "_draw_text_glyphs_and_boxes"))
    upright = (0x10000 * np.eye(2)).round().astype(int)

    class _PathCache:
        """``TextToPath`` with ``get_text_path`` remembered per (font properties, string)."""

        def __init__(self, inner: Any) -> None:
            self._inner = inner
            self._paths: dict[Any, tuple[Any, Any]] = {}

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def get_text_path(self, prop: Any, s: str, ismath: Any = False, **kw: Any) -> tuple[Any, Any]:
            if ismath:
                return self._inner.get_text_path(prop, s, ismath=ismath, **kw)
            key = (hash(prop), prop.get_size_in_points(), s, *sorted(kw.items()))
            hit = self._paths.get(key)
            if hit is None:
                verts, codes = self._inner.get_text_path(prop, s, ismath=ismath, **kw)
                if len(self._paths) >= _MAX_PATHS:
                    self._paths.clear()
                hit = self._paths[key] = (np.asarray(verts, dtype=float).reshape(-1, 2), np.asarray(codes, dtype=np.uint8))
            return hit

    class _Renderer(RendererAgg):
        """``RendererAgg`` remembering shaped strings and upright glyph bitmaps."""

        def __init__(self, width: float, height: float, dpi: float) -> None:
            super().__init__(width, height, dpi)
            self._layouts: dict[Any, tuple[Any, tuple[Any, ...]]] = {}
            self._glyphs: dict[Any, tuple[Any, int, int]] = {}
            self._heights: dict[Any, tuple[Any, Any, Any]] = {}
            self._text2path = _PathCache(self._text2path)

        def _get_font_height_metrics(self, prop: Any) -> tuple[Any, Any, Any]:
            """Ascent, descent and line gap of ``prop``'s font in pixels, as ``Text`` reads them from its tables.

            ``Text`` reads two font tables for every string it lays out; this reads them once per font and size.
            """
            key = (hash(prop), prop.get_size_in_points())
            hit = self._heights.get(key)
            if hit is None:
                hit = (None, None, None)
                font = get_font(fontManager._find_fonts_by_props(prop))
                for table_name, gap, ascent, descent in (
                    ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                    ("hhea", "lineGap", "ascent", "descent"),
                ):
                    table = font.get_sfnt_table(table_name)
                    if table is None:
                        continue
                    scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * self.dpi / 72
                    hit = (table[ascent] * scale, -table[descent] * scale, table[gap] * scale)
                    break
                self._heights[key] = hit
            return hit

        def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False, mtext: Any = None) -> None:  # fmt: skip
            if ismath or not hooks:
                return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            font = self._prepare_font(prop)
            features = mtext.get_fontfeatures() if mtext is not None else None
            language = mtext.get_language() if mtext is not None else None
            size = prop.get_size_in_points()
            key = (id(font), size, s, features, language)
            hit = self._layouts.get(key)
            if hit is None:
                items = font._layout(s, flags=get_hinting_flag(), features=features, language=language)
                if len(self._layouts) >= _MAX_LAYOUTS:
                    self._layouts.clear()
                # The font is kept with its run so its id is not reused by another font while cached.
                hit = self._layouts[key] = (font, tuple((i.ft_object, i.glyph_index, i.x, i.y) for i in items))
            glyphs = ((ft, size, gi, 0, 1, dx, dy) for ft, gi, dx, dy in hit[1])
            self._draw_text_glyphs_and_boxes(gc, x, y, angle, glyphs, [])

        def _draw_text_glyphs_and_boxes(self, gc: Any, x: float, y: float, angle: float, glyphs: Any, boxes: Any) -> None:  # fmt: skip
            if angle % 360 or boxes:
                return super()._draw_text_glyphs_and_boxes(gc, x, y, angle, glyphs, boxes)
            glyphs = list(glyphs)
            if any(slant != 0 or extend != 1 for _f, _s, _g, slant, extend, _x, _y in glyphs):
                return super()._draw_text_glyphs_and_boxes(gc, x, y, angle, glyphs, boxes)
            load_flags = get_hinting_flag()
            aa = bool(gc.get_antialiased())
            mode = RenderMode.NORMAL if aa else RenderMode.MONO
            height = int(self.height)
            cache = self._glyphs
            for font, size, glyph_index, _slant, _extend, dx, dy in glyphs:
                # The pen position in 26.6 fixed point, as the stock renderer computes it.
                px, py = round(0x40 * (x + dx)), round(0x40 * (self.height - y + dy))
                key = (id(font), size, glyph_index, px & 63, py & 63, aa, load_flags)
                hit = cache.get(key)
                if hit is None:
                    font.set_size(size, self.dpi)
                    font._set_transform(upright, [px & 63, py & 63])
                    bitmap = font._render_glyph(glyph_index, load_flags, mode)
                    buffer = np.array(bitmap.buffer)
                    if not aa:
                        buffer *= 0xFF
                    if len(cache) >= _MAX_GLYPHS:
                        cache.clear()
                    hit = cache[key] = (buffer, bitmap.left, bitmap.top, font)
                buffer, left, top, _font = hit
                self._renderer.draw_text_image(buffer, left + (px >> 6), height - (top + (py >> 6)) + buffer.shape[0], 0, gc)

    class _Canvas(FigureCanvasAgg):
        """``FigureCanvasAgg`` drawing with :class:`_Renderer` (kept while the size stays)."""

        def get_renderer(self) -> Any:
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = _Renderer(w, h, self.figure.dpi)
                self._lastKey = key
            return self.renderer

    return _Renderer, _Canvas


def cached_text_canvas(figure: Any) -> Any:
    """Attach and return an Agg canvas whose renderer caches text for ``figure``.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure to draw.

    Returns
    -------
    FigureCanvasAgg
        A canvas drawing the same pixels as the stock Agg canvas, faster when strings repeat.
    """
    return _classes()[1](figure)
