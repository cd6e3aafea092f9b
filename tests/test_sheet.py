"""The 附图's drawing surface (:mod:`maps.sheet`): known answers in pixels.

* a frame maps metres to pixels at one scale in x and y, widening the short side;
* filled, outlined, hatched and clipped paths land on the pixels they should;
* drawing order follows ``z``, not call order;
* text is laid out as matplotlib's own ``Text`` lays it out (the same boxes, one line or many).
"""

from __future__ import annotations

import io
import warnings

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.path import Path as MPath
from PIL import Image

from maps.sheet import Frame, Sheet, rgba


def _rgb(sheet: Sheet) -> np.ndarray:
    img = np.asarray(Image.open(io.BytesIO(sheet.png())).convert("RGB")).astype(int)
    return img[::-1]  # row 0 at the bottom, as the sheet counts


def test_frame_keeps_one_scale_and_widens_the_short_side() -> None:
    sheet = Sheet(10, 5, dpi=100)  # 393 x 196 px
    frame = Frame(sheet, (0, 0, 1000, 1000), (0.0, 0.0, 1.0, 1.0))
    x0, y0, x1, y1 = frame.extent
    assert (y1 - y0) == pytest.approx(1000) and (x1 - x0) == pytest.approx(1000 * sheet.width / sheet.height)
    assert (x0 + x1) / 2 == pytest.approx(500) and frame.scale == pytest.approx(sheet.height / 1000)
    px = frame.to_px([(500, 500), (x0, y0), (x1, y1)])
    assert px[0] == pytest.approx([sheet.width / 2, sheet.height / 2])
    assert px[1] == pytest.approx([0, 0]) and px[2] == pytest.approx([sheet.width, sheet.height])


def test_fill_outline_hatch_and_clip_land_on_their_pixels() -> None:
    sheet = Sheet(10, 10, dpi=72)  # 283 x 283 px, one pixel per point
    frame = Frame(sheet, (0, 0, 100, 100), (0.1, 0.1, 0.5, 0.5))  # the frame covers pixels 28..169
    square = MPath([(20, 20), (80, 20), (80, 80), (20, 80), (20, 20)], closed=True)
    frame.paths([square], face=rgba("#0000ff"), z=1)
    big = MPath([(-50, -50), (500, -50), (500, 500), (-50, 500), (-50, -50)], closed=True)  # runs far past the frame
    frame.paths([big], edge=rgba("#ff0000"), lw=1.0, hatch="////", z=2)
    img = _rgb(sheet)
    x0, y0, x1, y1 = (int(round(v)) for v in frame.box)
    cx, cy = frame.to_px([(50, 50)])[0].astype(int)
    block = img[cy - 5 : cy + 5, cx - 5 : cx + 5]
    assert (block[..., 2] > 150).any() and (block[..., 0] > 150).any()  # blue fill under red hatching
    hatched = img[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3]
    red = (hatched[..., 0] > 150) & (hatched[..., 1] < 100)  # red strokes (on white or on blue)
    assert 0.03 < red.mean() < 0.6  # a pattern, not a flat fill
    outside = np.concatenate([img[:, : x0 - 2].reshape(-1, 3), img[y1 + 2 :, :].reshape(-1, 3)])
    assert (outside >= 250).all()  # clipped: nothing beyond the frame's edge (white, up to the palette)


def test_drawing_order_follows_z_not_calls() -> None:
    sheet = Sheet(4, 4, dpi=72)
    sheet.rect(10, 10, 100, 100, face=rgba("#00ff00"), z=5)
    sheet.rect(10, 10, 100, 100, face=rgba("#ff0000"), z=1)  # called later, drawn first
    assert tuple(_rgb(sheet)[50, 50]) == (0, 255, 0)


def test_markers_are_stamped_where_asked() -> None:
    sheet = Sheet(6, 6, dpi=72)
    sheet.markers([(40, 40), (120, 100)], "o", 12, face=rgba("#000000"), edge=rgba("#000000"), lw=1.0)
    img = _rgb(sheet)
    assert img[40, 40].sum() < 100 and img[100, 120].sum() < 100 and img[70, 80].sum() >= 750


_RC = {"font.sans-serif": ["Noto Sans CJK SC", "DejaVu Sans"], "font.family": "sans-serif"}


@settings(max_examples=40, deadline=None)
@given(
    text=hs.lists(hs.sampled_from(["生态", "红线", "Ag", "jp", "县道", "0", "｜", "、", " "]), min_size=1, max_size=6).map("".join),
    lines=hs.integers(1, 3),
    size=hs.sampled_from([6.0, 6.5, 7.0, 8.5]),
    weight=hs.sampled_from(["normal", "bold"]),
    ha=hs.sampled_from(["left", "center", "right"]),
    va=hs.sampled_from(["bottom", "center", "top", "baseline"]),
)
def test_text_box_is_matplotlibs(text: str, lines: int, size: float, weight: str, ha: str, va: str) -> None:
    text = "\n".join([text] * lines)
    sheet = Sheet(17, 6.6)
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = Figure(figsize=(17 / 2.54, 6.6 / 2.54), dpi=150)
        renderer = FigureCanvasAgg(fig).get_renderer()
        ref = fig.text(0.4, 0.5, text, fontsize=size, fontweight=weight, ha=ha, va=va).get_window_extent(renderer)
        box, placed = sheet.layout(0.4 * fig.bbox.width, 0.5 * fig.bbox.height, text, size=size, weight=weight, ha=ha, va=va)
    assert [box.x0, box.y0, box.x1, box.y1] == pytest.approx([ref.x0, ref.y0, ref.x1, ref.y1], abs=1e-6)
    assert len(placed) == lines and all(box.y0 <= base <= box.y1 for _x, base, _t in placed)


def test_halo_hugs_the_text_as_drawn() -> None:
    """A label's white halo lies around its glyphs (as drawn, hinted) and nowhere else."""
    sheet = Sheet(8, 3, dpi=150)
    sheet.rect(0, 0, sheet.width, sheet.height, face=rgba("#000000"), z=0)
    box = sheet.text(20, 60, "生态保护红线 Redline 123", size=8, colour="#ff0000", halo=2.4, z=1)
    img = _rgb(sheet)
    white = (img.min(axis=2) > 200)
    ys, xs = np.nonzero(white)
    assert len(xs) > 50
    pad = 2.4 * sheet.px  # the stroke reaches half its width past the outline, plus antialiasing
    assert xs.min() >= box.x0 - pad and xs.max() <= box.x1 + pad
    assert ys.min() >= box.y0 - pad and ys.max() <= box.y1 + pad
    inside = img[int(box.y0) : int(box.y1), int(box.x0) : int(box.x1)]
    assert ((inside[..., 0] > 200) & (inside[..., 1] < 80)).any()  # the red glyphs on top of the halo


def test_a_kept_block_copies_the_pixels_drawing_gives() -> None:
    """A part drawn once and copied on the next picture gives the pixels of drawing it again."""

    def picture(kept: bool, label: str) -> np.ndarray:
        sheet = Sheet(9, 4, dpi=150)
        frame = Frame(sheet, (0, 0, 100, 100), (0.02, 0.1, 0.5, 0.85))
        frame.paths([MPath([(10, 10), (90, 30), (50, 90), (10, 10)], closed=True)], face=rgba("#2b8cbe", 0.4), edge=rgba("#000"), lw=1)

        def part() -> None:
            sheet.text(0.6 * sheet.width + 0.37, 0.8 * sheet.height + 0.21, label, size=7, va="top", z=80)
            sheet.rect(0.6 * sheet.width, 0.3 * sheet.height, 0.7 * sheet.width, 0.4 * sheet.height, face=rgba("#e60000", 0.3),
                       edge=rgba("#e60000"), lw=1.2, hatch="////", z=80)  # fmt: skip

        if kept:
            sheet.block(("test-part", label), (0.58 * sheet.width, 0.25 * sheet.height, sheet.width, sheet.height), part, z=80)
        else:
            part()
        return _rgb(sheet)

    label = "图例 test_a_kept_block_copies"  # a part no other test keeps
    direct = picture(False, label)
    first, copied = picture(True, label), picture(True, label)
    assert np.array_equal(first, direct) and np.array_equal(copied, direct)
    assert not np.array_equal(picture(True, label + "改"), direct)  # another key: drawn anew, not the kept pixels
