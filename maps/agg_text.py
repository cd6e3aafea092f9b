"""An Agg canvas that remembers the text it has drawn: shaping, glyph bitmaps and text outlines.

The 附图 print the same strings over and over (the legend, the source note,
the north arrow, zone names), with a CJK font whose text shaping costs about
2 ms per string in matplotlib's Agg renderer.  The renderer here keeps, for
the life of the canvas:

* the shaped glyph run of each (font, size, string), so a string is shaped once (for measuring and drawing);
  plain CJK text (:data:`PLAIN_CJK`) is set at the glyphs' advances, as HarfBuzz sets it, without HarfBuzz;
* each upright glyph's bitmap per sub-pixel phase (1/64 px): FreeType
  renders a glyph moved by whole pixels into the same bitmap moved by those
  pixels, so a cached bitmap drawn at the shifted place gives the same
  pixels as drawing it again;
* the outline of each string drawn as a path (labels with a white halo);
* the font files of each font properties (matplotlib looks them up for every string).

The pixels are the same as the stock renderer's (checked by the figure tests
against a stock canvas).  Anything else (rotated or slanted text, math text, a
matplotlib without the private hooks used here) goes through the stock code.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

__all__ = ["cached_text_canvas", "cached_text_renderer", "PLAIN_CJK"]

#: Characters HarfBuzz sets one after another at their advances in a CJK font (no kerning, ligature or mark):
#: CJK ideographs (and extension A), CJK symbols and punctuation without the combining tone marks (U+302A–302F)
#: and the kana repeat marks that join (U+3031–3035, U+303B), fullwidth forms and signs; and among them, or
#: alone, the digits 0–9 and the middle dot · (a legend's 自然保护地·核心保护区, a site's number).  Letters are
#: not: beside one a digit may change glyph (Noto Sans CJK's contextual forms: m2 is m², Ａ0 too), so digits and
#: the dot are plain only in a string without fullwidth letters and digits (:data:`_FULLWIDTH_ALNUM`).
PLAIN_CJK = re.compile("[0-9\u00b7\u3000-\u3029\u3036-\u303a\u303c-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60\uffe0-\uffe6]+")
#: Fullwidth letters and digits: beside them HarfBuzz may substitute a digit or the middle dot.
_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
#: The characters of :data:`PLAIN_CJK` that some fonts kern or substitute: checked per font before use.
_NARROW = re.compile("[0-9\u00b7]")


def _pairs(alphabet: str) -> str:
    """Return a string holding every ordered pair of ``alphabet``'s characters (a de Bruijn sequence of order 2)."""
    k, out = len(alphabet), []
    for a in range(k):  # Lyndon words of length 1 and 2 in order: a, then a b for every b > a
        out.append(a)
        out.extend(x for b in range(a + 1, k) for x in (a, b))
    seq = "".join(alphabet[x] for x in out)
    return seq + seq[0]


#: Every ordered pair of digits and the middle dot, then each of them between two ideographs: shaped once per
#: font to check that HarfBuzz sets them at their advances (no kerning, no substitution) before strings with
#: them skip HarfBuzz.
_NARROW_PROBE = _pairs("0123456789\u00b7") + "".join(f"一{c}" for c in "0123456789\u00b7") + "一"

#: Size (points at 72 dpi) glyph outlines are read at, as matplotlib's ``TextToPath`` reads them.
_OUTLINE_SIZE = 100

#: Cache sizes per canvas (entries); a cache is emptied when full, never grown past this.
_MAX_LAYOUTS = 4096
_MAX_GLYPHS = 65536
_MAX_PATHS = 2048


@cache
def _classes() -> tuple[type, type]:
    """Build the renderer and canvas classes (matplotlib is imported only when a figure is drawn)."""
    import matplotlib
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
            self._narrow: dict[Any, bool] = {}  # font file -> sets digits and · plainly (_narrow_is_plain)
            self._glyphs: dict[Any, tuple[Any, int, int]] = {}
            self._heights: dict[Any, tuple[Any, Any, Any]] = {}
            self._files: dict[Any, Any] = {}
            self._boxes: dict[Any, tuple[tuple[int, int, int, int], int, Any]] = {}
            self._outlines: dict[Any, tuple[Any, Any, Any]] = {}
            self._text2path = _PathCache(self._text2path)

        def _prepare_font(self, font_prop: Any) -> Any:
            """Return the font of ``font_prop`` cleared and sized, its files looked up once per font properties."""
            rc = matplotlib.rcParams  # generic family names resolve through these
            key = (hash(font_prop), font_prop.get_size_in_points(), tuple(rc["font.family"]), tuple(rc["font.sans-serif"]))
            files = self._files.get(key)
            if files is None:
                files = self._files[key] = fontManager._find_fonts_by_props(font_prop)
            font = get_font(files)
            font.clear()
            font.set_size(font_prop.get_size_in_points(), self.dpi)
            return font

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

        def _glyph(self, ft: Any, size: float, glyph_index: int, flags: Any) -> tuple[tuple[int, int, int, int], int, Any]:
            """Return a glyph's box and advance (26.6 fixed point) at ``size``, read once per font and size."""
            key = (id(ft), size, glyph_index, flags)
            hit = self._boxes.get(key)
            if hit is None:
                ft.set_size(size, self.dpi)
                glyph = ft.load_glyph(glyph_index, flags)
                hit = self._boxes[key] = (glyph.bbox, glyph.horiAdvance, ft)
            return hit

        def _plain_run(self, font: Any, size: float, s: str) -> tuple[tuple[Any, int, float, float], ...] | None:
            """Set ``s`` glyph after glyph at the glyphs' advances, as HarfBuzz sets plain CJK text; None if it may not.

            Only for strings of :data:`PLAIN_CJK` characters that the font itself has: no kerning, ligature or
            mark applies to them, and HarfBuzz (1 ms a string with a CJK font's large layout tables) gives the same
            positions (checked against it on 19 000 random strings, and 14 000 with digits and the middle dot).
            """
            if not PLAIN_CJK.fullmatch(s):
                return None
            if _NARROW.search(s) and (_FULLWIDTH_ALNUM.search(s) or not self._narrow_is_plain(font, size)):
                return None
            return self._advance_run(font, size, s)

        def _advance_run(self, font: Any, size: float, s: str) -> tuple[tuple[Any, int, float, float], ...] | None:
            """Place the glyphs of ``s`` one after another at their advances (None if the font lacks one)."""
            indexes = [font.get_char_index(ord(c)) for c in s]
            if not all(indexes):
                return None
            flags = get_hinting_flag()
            run, pen = [], 0
            for glyph_index in indexes:
                run.append((font, glyph_index, pen / 64, 0.0))
                pen += self._glyph(font, size, glyph_index, flags)[1]
            font.set_size(size, self.dpi)
            return tuple(run)

        def _narrow_is_plain(self, font: Any, size: float) -> bool:
            """Return True when this font sets digits and the middle dot at their advances, as HarfBuzz does.

            Checked once per font file by shaping :data:`_NARROW_PROBE` (every pair of them, and each beside
            an ideograph): a font that kerns digit pairs or substitutes them gets HarfBuzz for such strings.
            """
            key = getattr(font, "fname", None) or id(font)
            hit = self._narrow.get(key)
            if hit is None:
                mine = self._advance_run(font, size, _NARROW_PROBE)
                items = font._layout(_NARROW_PROBE, flags=get_hinting_flag(), features=None, language=None)
                theirs = tuple((i.glyph_index, i.x, i.y) for i in items)
                hit = self._narrow[key] = mine is not None and theirs == tuple((g, x, y) for _f, g, x, y in mine)
                font.set_size(size, self.dpi)
            return hit

        def _run(self, font: Any, size: float, s: str, features: Any = None, language: Any = None) -> tuple[Any, tuple[Any, ...]]:
            """Return the shaped glyph run of ``s`` (font, ((glyph font, glyph index, x, y), ...)), shaped once."""
            key = (id(font), size, s, features, language)
            hit = self._layouts.get(key)
            if hit is None:
                run = self._plain_run(font, size, s) if features is None and language is None else None
                if run is None:
                    items = font._layout(s, flags=get_hinting_flag(), features=features, language=language)
                    run = tuple((i.ft_object, i.glyph_index, i.x, i.y) for i in items)
                if len(self._layouts) >= _MAX_LAYOUTS:
                    self._layouts.clear()
                # The font is kept with its run so its id is not reused by another font while cached.
                hit = self._layouts[key] = (font, run)
            return hit

        def text_outline(self, s: str, prop: Any) -> tuple[Any, Any]:
            """Return the outline of ``s`` as drawn (vertices in pixels from the pen's start, codes), for a halo.

            The glyphs' unhinted outlines placed at the positions the string is drawn at (its cached run),
            each outline read once per font: matplotlib's ``TextToPath`` shapes the string once more, unhinted.
            """
            from matplotlib.ft2font import LoadFlags

            font = self._prepare_font(prop)
            size = prop.get_size_in_points()
            scale = size * self.dpi / 72 / _OUTLINE_SIZE
            verts, codes = [], []
            for ft, glyph_index, gx, gy in self._run(font, size, s)[1]:
                key = (id(ft), glyph_index)
                hit = self._outlines.get(key)
                if hit is None:
                    ft.set_size(_OUTLINE_SIZE, 72)
                    ft.load_glyph(glyph_index, flags=LoadFlags.NO_HINTING)
                    v, c = ft.get_path()
                    hit = self._outlines[key] = (np.asarray(v, dtype=float).reshape(-1, 2), np.asarray(c, dtype=np.uint8), ft)
                    ft.set_size(size, self.dpi)
                v, c, _ft = hit
                if len(v):
                    verts.append(v * scale + (gx, gy))
                    codes.append(c)
            font.set_size(size, self.dpi)
            if not verts:
                return np.zeros((0, 2)), np.zeros(0, dtype=np.uint8)
            return np.concatenate(verts), np.concatenate(codes)

        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
            """Measure ``s`` from its cached glyph run as ``FT2Font.set_text`` does: the pen's travel, the glyphs' heights.

            The stock renderer shapes the string again to measure it; here a string is shaped once for
            measuring and drawing, and each glyph's box is read once per font and size.
            """
            if ismath or not hooks or not s:
                return super().get_text_width_height_descent(s, prop, ismath)
            font = self._prepare_font(prop)
            size = prop.get_size_in_points()
            flags = get_hinting_flag()
            x0 = x1 = 0
            y0, y1 = 32000 * 64, -32000 * 64
            for ft, glyph_index, gx, gy in self._run(font, size, s)[1]:
                (bx0, by0, bx1, by1), advance, _ft = self._glyph(ft, size, glyph_index, flags)
                px, py = round(gx * 64), round(gy * 64)  # the pen in 26.6 fixed point
                x1 = px + advance  # the width is the pen's travel (FT2Font.set_text's box in x)
                y0, y1 = min(y0, py + by0), max(y1, py + by1)
            font.set_size(size, self.dpi)
            if y0 > y1:  # no glyph had a box (spaces only)
                y0 = y1 = 0
            return (x1 - x0) / 64.0, (y1 - y0) / 64.0, -y0 / 64.0

        def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False, mtext: Any = None) -> None:  # fmt: skip
            if ismath or not hooks:
                return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            font = self._prepare_font(prop)
            features = mtext.get_fontfeatures() if mtext is not None else None
            language = mtext.get_language() if mtext is not None else None
            size = prop.get_size_in_points()
            hit = self._run(font, size, s, features, language)
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


def cached_text_renderer(width: int, height: int, dpi: float) -> Any:
    """Return an Agg renderer of this size that caches text (for drawing without a figure).

    Parameters
    ----------
    width, height : int
        Size in pixels.
    dpi : float
        Resolution (points to pixels).

    Returns
    -------
    RendererAgg
        A renderer drawing the stock pixels, remembering shaped strings, glyph bitmaps and text outlines.
    """
    return _classes()[0](width, height, dpi)
