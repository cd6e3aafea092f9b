"""The writers' model: what the map, the report and the tables need from the lower modules, computed once.

The flow is read → normalise → index → rules → results → **model** → outputs.
:func:`output_model` takes a screening result and, in one pass from the top
down, asks the lower modules once each for what the writers state:

* the user's own columns of the sites file (:func:`spatial.output.user_columns`);
* which names and cells are template placeholders (DKMC, FID_0, @ …), not values
  (:mod:`spatial.coordfile`);
* the Chinese names of the sites' project types;
* the 三线一单 schemes and the 准入清单 dimension names of the package's
  jurisdiction (:mod:`spatial.jurisdiction`, :mod:`spatial.sources`);
* the per-site facts (:mod:`spatial.facts`): overlaps, nearest features,
  coordinates, each touched control unit's ellipsoidal overlap and the
  direction of each finding's feature.

The result is a frozen :class:`OutputModel`; the writers (``maps.eia``,
``maps.report``, ``spatial.output``) only format and write it, and never call
back down for these.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from spatial.facts import site_facts
from spatial.jurisdiction import zoning_adcode
from spatial.output import user_columns
from spatial.project_types import label_zh
from spatial.sources import dimension_names
from spatial.sources import scheme_citations as schemes_of

__all__ = ["OutputModel", "output_model", "scheme_citations", "is_placeholder"]

_TEMPLATE_WORD = re.compile(r"^\s*DK[A-Z]{2,4}\s*$")


@dataclass(frozen=True)
class OutputModel:
    """What the writers need from the lower modules, for one screening result.

    Attributes
    ----------
    user_columns : tuple of str
        The user's own columns of the sites file (建设单位, 投资 …), in input order.
    placeholders : DataFrame of bool
        For each site (row, in the sites' order), its ``name`` (its id when the sites have no names) and
        each user column: the cell holds a template placeholder (DKMC, FID_0, @ …), which is no value.
    type_zh : mapping of str to str
        Project type (as the sites table holds it, stripped) -> Chinese name.
    plans : tuple of str
        The 三线一单 schemes whose jurisdiction holds the package, province first, with 文号.
    dimension_names : mapping of str to str
        The local scheme's 准入清单 dimension names (empty: the national ones).
    layer_facts : mapping
        (site id, layer) -> the site's facts on that layer (a :data:`spatial.facts.FACT_COLUMNS` record).
    facts_table : DataFrame
        The same facts as one table (:attr:`spatial.facts.SiteFacts.layers`).
    coords : mapping
        Site id -> its coordinates record (:attr:`spatial.facts.SiteFacts.coords`).
    units : DataFrame, optional
        The result's ``units``, with the ellipsoidal (GRS80) overlap of each site and unit.
    hit_directions : tuple of str
        八方位 of each finding's feature seen from its site, in the order of the hits.
    """

    user_columns: tuple[str, ...] = ()
    placeholders: pd.DataFrame = field(default_factory=pd.DataFrame)
    type_zh: Mapping[str, str] = field(default_factory=dict)
    plans: tuple[str, ...] = ()
    dimension_names: Mapping[str, str] = field(default_factory=dict)
    layer_facts: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    facts_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    coords: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    units: pd.DataFrame | None = None
    hit_directions: tuple[str, ...] = ()


def is_placeholder(value: Any) -> bool:
    """Tell a template placeholder (DKMC, DKYT, FID_0, @ …) from a value.

    Parameters
    ----------
    value : Any
        A cell of the sites file.

    Returns
    -------
    bool
        True for a placeholder.
    """
    from spatial.coordfile import is_placeholder_id

    return is_placeholder_id(value) or bool(_TEMPLATE_WORD.match(str(value)))


def scheme_citations(zoning: Any) -> list[str]:
    """List the 三线一单 schemes whose jurisdiction holds the zoning package, with 文号.

    Parameters
    ----------
    zoning : Zoning
        The package (its manifest's adcode, else its boundary ``code``).

    Returns
    -------
    list of str
        Province first, then city (:func:`spatial.sources.scheme_citations`).
    """
    return schemes_of(zoning_adcode(zoning)[0])


def _blank(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def output_model(result: Any, *, report: bool = True, sections: Collection[str] | None = None) -> OutputModel:
    """Compute, once, what the writers need from the lower modules.

    The lower modules are asked from the top down, each once: the sites'
    own columns and placeholders, the names of the project types, the
    facts measured from geometry, then the jurisdiction's schemes.

    Parameters
    ----------
    result : ScreeningResult
        Screening output (``sites``, ``hits``, ``units``, ``zoning``, ``audit``).
    report : bool, default True
        Also measure what only the report states (site facts, jurisdiction, unit areas);
        False: only what the tables need (such a model cannot build a report).
    sections : collection of str, optional
        A summary report's sites with a section (:func:`maps.summary.section_ids`): the report
        states these sites only, so only they are measured (``result.take(sections)``).

    Returns
    -------
    OutputModel
        Plain values; the writers format them.
    """
    columns = tuple(user_columns(result.sites))
    if not report:
        return OutputModel(user_columns=columns)
    if sections is not None:
        result = result.take(sections)
    sites = result.sites
    cells = {"name": sites["name"].tolist() if "name" in sites else sites["site_id"].astype(str).tolist()}
    cells.update({c: sites[c].tolist() for c in columns if c != "name"})
    placeholders = pd.DataFrame({c: [is_placeholder(v) for v in values] for c, values in cells.items()}, columns=list(cells))
    types = sites["project_type"].tolist() if "project_type" in sites else []
    type_zh = {t: label_zh(t) for t in dict.fromkeys("" if _blank(v) else str(v).strip() for v in types)}
    facts = site_facts(result)
    adcode, _ = zoning_adcode(result.zoning)
    plans, dims = tuple(schemes_of(adcode)), dimension_names(adcode)
    return OutputModel(
        user_columns=columns,
        placeholders=placeholders,
        type_zh=type_zh,
        plans=plans,
        dimension_names=dims,
        layer_facts={(str(r["site_id"]), r["layer"]): r for r in facts.layers.to_dict("records")},
        facts_table=facts.layers,
        coords={r["site_id"]: r for r in facts.coords.to_dict("records")},
        units=facts.units,
        hit_directions=tuple(facts.hit_directions),
    )
