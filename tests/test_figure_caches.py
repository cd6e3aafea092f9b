"""The 附图's speed-ups draw the same pixels as the plain way.

* The text-caching Agg canvas (:mod:`maps.agg_text`) against matplotlib's own
  ``FigureCanvasAgg``: CJK and Latin text, a white halo (text drawn as a path),
  multi-line, rotated and math text, a legend; drawn again after the texts
  moved by fractions of a pixel (the glyph cache keys on the sub-pixel phase).
* Insets drawn by two processes against one process: byte-identical PNGs, in order.
"""

from __future__ import annotations

import multiprocessing
import warnings

import geopandas as gpd
import matplotlib
import matplotlib.patheffects as pe
import numpy as np
import pytest
from conftest import km_box, km_line, km_point
from hypothesis import given, settings
from hypothesis import strategies as hs
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from maps.agg_text import cached_text_canvas
from maps.figures import render_sites

_RC = {"font.sans-serif": ["Noto Sans CJK SC", "DejaVu Sans"], "font.family": "sans-serif", "axes.unicode_minus": False}


def _scene(fig: Figure, shift: float) -> None:
    fig.clear()
    ax = fig.add_axes((0.05, 0.1, 0.6, 0.8))
    ax.plot([0, 1], [0, 1], label="生态保护红线")
    ax.plot([0, 1], [1, 0], label="Water 水源保护区")
    for i in range(6):
        ax.text(0.1 + i * 0.13 + shift, 0.2 + i * 0.1 + shift / 3, f"地块{i} site", fontsize=7 + i * 0.5)
    ax.annotate("南岭 halo", (0.5, 0.5), xytext=(7 + shift * 40, 5), textcoords="offset points",
                path_effects=[pe.withStroke(linewidth=2.4, foreground="white")])  # fmt: skip
    ax.text(0.3, 0.7, "旋转 rotated", rotation=30)
    ax.text(0.6, 0.1, r"$x^2$ 数学", fontsize=9)
    fig.text(0.01, 0.01 + shift / 50, "数据来源：示例｜第一行\n第二行 line two", fontsize=6)
    fig.legend(loc="upper left", bbox_to_anchor=(0.68, 0.95), title="图例", fontsize=7)


def _pixels(canvas: FigureCanvasAgg) -> np.ndarray:
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_cached_canvas_draws_the_stock_pixels() -> None:
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont", category=UserWarning)
        cached_fig = Figure(figsize=(6, 3), dpi=150)
        stock_fig = Figure(figsize=(6, 3), dpi=150)
        cached, stock = cached_text_canvas(cached_fig), FigureCanvasAgg(stock_fig)
        for shift in (0.0, 0.0, 0.0037, 0.011, 0.0):  # repeats hit the caches; shifts change sub-pixel phases
            _scene(cached_fig, shift)
            _scene(stock_fig, shift)
            a, b = _pixels(cached), _pixels(stock)
            assert (a[..., :3] < 200).any()  # something was drawn
            assert np.array_equal(a, b), f"shift {shift}: {(a != b).any(axis=2).sum()} pixels differ"


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_insets_by_two_processes_equal_one_process(toy_zoning) -> None:
    from spatial.screening import screen

    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B", "C"], "name": ["红线内住宅", "电镀厂", "县道"], "project_type": ["住宅", "电镀", "道路"]},
        geometry=[km_point(3.5, 3.5), km_box(11, 1, 12, 2), km_line((1, 7), (1, 9))],
        crs=toy_zoning.crs,
    )
    res = screen(sites, toy_zoning)
    jobs = [
        {"site": g, "site_id": i, "name": n, "verdict": v, "note": "底图：无"}
        for g, i, n, v in zip(res.sites.geometry, res.sites["site_id"], res.sites["name"], res.sites["verdict"], strict=True)
    ]
    calls: dict[int, list[str]] = {1: [], 2: []}
    ticks: dict[int, list[int]] = {1: [], 2: []}
    one = list(render_sites(toy_zoning, jobs, workers=1, meanwhile=lambda: calls[1].append("model"), progress=ticks[1].append))
    two = list(render_sites(toy_zoning, jobs, workers=2, meanwhile=lambda: calls[2].append("model"), progress=ticks[2].append))
    assert len(one) == 3 and all(p.startswith(b"\x89PNG") for p in one)
    assert one == two
    assert len(set(one)) == 3  # three different maps, not one repeated
    assert calls == {1: ["model"], 2: ["model"]}  # the caller's work runs once, here, in both modes
    assert ticks[1] == [1, 2, 3] and ticks[2] == sorted(ticks[2]) and all(1 <= t <= 3 for t in ticks[2])


_PLAIN = [chr(c) for c in (*range(0x3000, 0x302A), *range(0x3036, 0x303B), *range(0x303C, 0x3040), *range(0xFF01, 0xFF61), *range(0xFFE0, 0xFFE7))]
_PLAIN += [*"0123456789", "\u00b7"]  # digits and the middle dot, among CJK or alone


@settings(max_examples=30, deadline=None)
@given(
    text=hs.lists(hs.one_of(hs.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), hs.sampled_from(_PLAIN)), min_size=1, max_size=12).map("".join),
    tail=hs.sampled_from(["", " km", "·一级", "…", "LZ-06", "m2"]),
    size=hs.sampled_from([6.0, 6.5, 7.5, 8.5]),
    weight=hs.sampled_from(["normal", "bold"]),
    shift=hs.floats(0, 0.01),
)
def test_plain_cjk_is_set_as_harfbuzz_sets_it(text: str, tail: str, size: float, weight: str, shift: float) -> None:
    """CJK text set without HarfBuzz (glyph after glyph) measures and draws as the stock canvas (HarfBuzz) does."""
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont", category=UserWarning)
        out = []
        for make in (cached_text_canvas, FigureCanvasAgg):
            fig = Figure(figsize=(4, 1), dpi=150)
            canvas = make(fig)
            for s in (text, text + tail):  # plain, and mixed (the whole string through HarfBuzz)
                t = fig.text(0.05 + shift, 0.3, s, fontsize=size, fontweight=weight)
                out.append(tuple(t.get_window_extent(canvas.get_renderer()).bounds))
            out.append(_pixels(canvas).tobytes())
    n = len(out) // 2
    assert out[:n] == out[n:]


@pytest.mark.parametrize("family", ["Liberation Serif", "DejaVu Sans", "Noto Sans CJK SC"])
def test_digits_are_set_as_harfbuzz_sets_them_in_any_font(family: str) -> None:
    """Digits and the middle dot skip HarfBuzz only in a font checked to set them plainly; elsewhere HarfBuzz sets them.

    Liberation Serif kerns digit pairs (11, 71: the per-font check fails); Noto Sans CJK passes it.
    Either way the boxes and pixels are the stock canvas's.
    """
    from matplotlib.font_manager import FontProperties, findfont

    if family.split()[0].lower() not in findfont(FontProperties(family=family), fallback_to_default=False).lower():
        pytest.skip(f"{family} is not installed")
    strings = ["0123456789", "11", "1·2", "71", "111", "1171", "第7号", "7·一级"]
    rc = {**_RC, "font.sans-serif": [family, "DejaVu Sans"]}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing", category=UserWarning)
        out = []
        for make in (cached_text_canvas, FigureCanvasAgg):
            fig = Figure(figsize=(4, 2), dpi=150)
            canvas = make(fig)
            for i, s in enumerate(strings):
                t = fig.text(0.05 + 0.003 * i, 0.05 + 0.15 * i, s, fontsize=7 + i)
                out.append(tuple(t.get_window_extent(canvas.get_renderer()).bounds))
            out.append(_pixels(canvas).tobytes())
    n = len(out) // 2
    assert out[:n] == out[n:]
