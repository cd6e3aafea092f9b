"""Small table helpers shared by the measuring and writing stages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype

__all__ = ["records"]


def _native(value: Any) -> Any:
    """Return ``value`` as ``to_dict`` boxes a cell of an object or extension column (NA is None)."""
    if value is pd.NA:
        return None
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return pd.Timestamp(value)
        if isinstance(value, np.timedelta64):
            return pd.Timedelta(value)
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as dicts, the values ``frame.to_dict("records")`` gives.

    ``to_dict`` boxes every cell on its own; this reads whole columns (``tolist``, which gives
    Python scalars), then boxes the cells of object and nullable columns as ``to_dict`` does
    (NA is None): several times faster on a site's few rows and on a batch's tens of thousands.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table with distinct column names.

    Returns
    -------
    list of dict
        One dict per row, column name -> value.
    """
    cols = list(frame.columns)
    if not cols:
        return [{} for _ in range(len(frame))]
    values = []
    for c in cols:
        col = frame[c]
        vals = col.tolist()
        # Object columns may hold NumPy scalars and NA; nullable columns hold NA (None in to_dict). A NaN-string
        # column (pandas' default ``str``) already gives str and float.
        if col.dtype == object or (isinstance(col.dtype, ExtensionDtype) and col.dtype.na_value is pd.NA):
            vals = [_native(v) for v in vals]
        values.append(vals)
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]
