"""User column names that never collide with ecozone's own, in any output format.

A sites file may carry any column: ``NAME`` (the usual DBF spelling), a
Google Earth ``Name``, ``Verdict``, ``fid``, two columns differing only in
case, or ecozone's own ``sites.csv`` screened again after a zoning update.
GeoPackage, Shapefile/DBF and spreadsheet users treat ``NAME`` and ``name``
as one field, so names are compared case-folded (NFKC, lower case, no
spaces, :func:`layers.base.clean_key`) against every column ecozone writes
beside them.  A clashing user column keeps its data under a visible suffix,
``<name>（原表）`` (``（原表2）``… when that is taken too), and the mapping is
recorded for ``run.json``.

ecozone's own result tables are recognised by their columns
(``verdict``/``verdict_zh``/``n_hits``/``summary_zh``): the previous run's
derived columns (nearest-feature distances, 结论说明 …) are dropped, the
previous verdict is kept as ``verdict（原表）`` so a re-screening shows what
changed, and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from layers.base import clean_key

__all__ = [
    "SUFFIX",
    "RENAMES_ATTR",
    "OWN_SITE_COLUMNS",
    "is_own_output",
    "own_derived_columns",
    "safe_names",
]

#: Suffix of a user column renamed because ecozone writes a column of that name.
SUFFIX = "（原表）"
#: ``GeoDataFrame.attrs`` key: ``{input column: output column}`` for every renamed user column.
RENAMES_ATTR = "ecozone_column_renames"
#: Every column ecozone itself writes into a sites table (CSV, GeoPackage, GeoParquet, report.xlsx).
OWN_SITE_COLUMNS = (
    "site_id", "name", "project_type", "project_type_raw", "verdict", "verdict_zh", "verdict_eia", "n_hits",
    "summary_zh", "coverage_zh", "data_note", "area_m2", "length_m", "geometry", "geom", "fid", "ogc_fid",
)  # fmt: skip
#: Per-layer nearest-feature columns of sites.csv (``redline_distance_m``, ``town_nearest`` …).
_NEAREST = re.compile(r"^[a-z0-9_]+_(distance_m|nearest)$")
#: Columns that only an ecozone result table has together.
_OWN_MARKERS = ("verdict", "verdict_zh", "n_hits", "summary_zh")
#: Result columns of a previous run dropped when it is screened again (the verdict is kept, renamed).
_OWN_DERIVED = (
    "verdict_zh", "verdict_eia", "n_hits", "summary_zh", "coverage_zh", "data_note", "area_m2", "length_m", "project_type_raw",
)  # fmt: skip


def _reserved(key: str) -> bool:
    return key in {clean_key(c) for c in OWN_SITE_COLUMNS} or bool(_NEAREST.match(key))


def is_own_output(columns: Iterable[object]) -> bool:
    """Tell whether a table is ecozone's own ``sites.csv`` / ``screening.gpkg`` sites layer.

    Parameters
    ----------
    columns : iterable
        Column names of the input.

    Returns
    -------
    bool
        True when every result marker column is present (exact names, as ecozone writes them).
    """
    cols = {str(c) for c in columns}
    return all(m in cols for m in _OWN_MARKERS)


def own_derived_columns(columns: Iterable[object]) -> list[str]:
    """Columns of a previous ecozone result that a new screening recomputes (dropped on input).

    Parameters
    ----------
    columns : iterable
        Column names of a table :func:`is_own_output` recognised.

    Returns
    -------
    list of str
        The derived columns present, in input order.
    """
    return [str(c) for c in columns if str(c) in _OWN_DERIVED or _NEAREST.match(str(c))]


def safe_names(columns: Sequence[object], taken: Iterable[str] = ()) -> dict[str, str]:
    """Output names for user columns: unique case-insensitively and clear of ecozone's own.

    Parameters
    ----------
    columns : sequence
        User column names in input order (any type; names become strings).
    taken : iterable of str
        Further names already in use beside them.

    Returns
    -------
    dict
        ``{str(column): output name}`` for every column; a name only changes
        when it clashes (case-folded) with ecozone's columns, ``taken`` or an
        earlier user column, and then gains :data:`SUFFIX` (``（原表2）``, … if needed).
    """
    used = {clean_key(t) for t in taken}
    out: dict[str, str] = {}
    for c in columns:
        name = str(c)
        if name.strip() == "":
            name = "（无名列）"
        new = name
        k = 1
        while clean_key(new) in used or _reserved(clean_key(new)) or new in out.values():
            new = f"{name}{SUFFIX}" if k == 1 else f"{name}（原表{k}）"
            k += 1
        used.add(clean_key(new))
        out[str(c)] = new
    return out
