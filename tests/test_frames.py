"""``spatial.frames.records`` gives what ``DataFrame.to_dict("records")`` gives, for any column kinds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as hs

from spatial.frames import records

_KINDS = ("int", "float", "bool", "str", "object", "Int64", "boolean", "datetime", "timedelta")


def _column(kind: str, draw: hs.DrawFn, n: int) -> pd.Series:
    missing = draw(hs.lists(hs.booleans(), min_size=n, max_size=n))
    ints = draw(hs.lists(hs.integers(-(2**40), 2**40), min_size=n, max_size=n))
    if kind == "int":
        return pd.Series(ints, dtype="int64")
    if kind == "float":
        return pd.Series([np.nan if m else i / 7 for i, m in zip(ints, missing, strict=True)], dtype="float64")
    if kind == "bool":
        return pd.Series([i % 2 == 0 for i in ints], dtype=bool)
    if kind == "str":
        return pd.Series([None if m else f"地块{i}" for i, m in zip(ints, missing, strict=True)], dtype="str")
    if kind == "object":
        return pd.Series([None if m else (np.float64(i) if i % 3 else f"s{i}") for i, m in zip(ints, missing, strict=True)], dtype=object)
    if kind == "Int64":
        return pd.Series([None if m else i for i, m in zip(ints, missing, strict=True)], dtype="Int64")
    if kind == "boolean":
        return pd.Series([None if m else i % 2 == 0 for i, m in zip(ints, missing, strict=True)], dtype="boolean")
    if kind == "datetime":
        return pd.Series(pd.to_datetime([abs(i) % 10**9 for i in ints], unit="s"))
    return pd.Series(pd.to_timedelta([abs(i) % 10**6 for i in ints], unit="s"))


@hs.composite
def frames(draw: hs.DrawFn) -> pd.DataFrame:
    n = draw(hs.integers(0, 6))
    kinds = draw(hs.lists(hs.sampled_from(_KINDS), min_size=0, max_size=6))
    return pd.DataFrame({f"c{i}_{k}": _column(k, draw, n) for i, k in enumerate(kinds)}, index=range(n))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(frames())
def test_records_equal_to_dict(frame: pd.DataFrame) -> None:
    want, got = frame.to_dict("records"), records(frame)
    assert len(want) == len(got)
    for w, g in zip(want, got, strict=True):
        assert list(w) == list(g)
        assert all(_same(w[k], g[k]) for k in w), (w, g)
