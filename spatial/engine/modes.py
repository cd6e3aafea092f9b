"""Rule modes: one small object per ``mode:`` of the catalogue.

A mode knows two things: which catalogue keys it reads and how to check
them (:meth:`RuleMode.validate`, called by :func:`spatial.rules.load_rules`),
and which (feature, site) pairs are its candidates (:meth:`RuleMode.jobs`:
extra queries, or ``None`` for the pairs touching the layer, and
:meth:`RuleMode.select` to narrow them).  The engine loops over the rules
and asks each rule's mode; it never tests a mode's name.

Add a mode: subclass :class:`RuleMode`, decorate it with :func:`register`,
list its keys, write ``validate`` and ``jobs``/``select`` (see CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY as LAYERS
from layers.base import clean_key
from spatial.engine.prepared import PreparedZoning
from spatial.engine.queries import TOUCH_M, distance_pairs, feature_ranges, outside_layer_pairs, outside_pairs
from spatial.errors import RuleError

__all__ = ["RuleMode", "QueryContext", "Job", "MODES", "register", "mode_keys", "where_values"]

#: ``(group key, function, *args)``: jobs with the same key run on one thread, in order
#: (they query the same prepared geometries, which two threads must not share).
Job = tuple[Any, ...]


class Rule(Protocol):
    """What a mode reads from a :class:`spatial.rules.Rule` (the rules loader depends on the modes, not back)."""

    id: str
    buffer_m: float | str | None
    distance_m: float | None
    where: Mapping[str, tuple[str, ...]]
    params: Mapping[str, Any]


@dataclass
class QueryContext:
    """What a mode's query sees: one chunk of sites and the prepared zoning.

    Attributes
    ----------
    tree : shapely.STRtree
        Tree over the chunk's site geometries.
    sites : ndarray
        Site geometries (working CRS).
    prepared : PreparedZoning
        Prepared zoning.
    touch : dict
        Layer -> pairs touching a site (already computed for every layer).
    threads : int
        Threads of the run.
    ranges : dict
        Layer -> feature ranges (:func:`~spatial.engine.queries.feature_ranges`).
    nearest : bool
        Name the nearest feature of an ``outside`` hit (False: verdicts only, as
        suitability asks; the hit names no feature).
    """

    tree: shapely.STRtree
    sites: np.ndarray
    prepared: PreparedZoning
    touch: dict[str, pd.DataFrame]
    threads: int
    ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    nearest: bool = True

    def layer_ranges(self, layer: str) -> list[tuple[int, int]]:
        """Feature ranges of ``layer`` (computed for layers outside the touch phase).

        Parameters
        ----------
        layer : str
            Layer name.

        Returns
        -------
        list of (int, int)
            Half-open feature ranges.
        """
        return self.ranges.get(layer) or feature_ranges(self.prepared, layer, self.threads)


class RuleMode:
    """A rule mode.  The base class is ``intersects``: candidates are the pairs touching the layer."""

    #: The ``mode:`` value in the catalogue.
    name: ClassVar[str] = ""
    #: Catalogue keys this mode reads (besides the keys every rule has).
    keys: ClassVar[tuple[str, ...]] = ()

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:
        """Check the mode's own keys of one catalogue rule.

        Parameters
        ----------
        raw : mapping
            The rule as written in the catalogue.
        layers : tuple of str
            The rule's (valid) layers.
        label : str
            ``file 规则 ID`` for messages.

        Returns
        -------
        dict
            Normalised parameters stored on the :class:`~spatial.rules.Rule`
            (``buffer_m`` and ``distance_m`` become attributes, the rest go to ``params``).

        Raises
        ------
        RuleError
            Naming the rule and the fix.
        """
        return {}

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:
        """Extra queries giving this rule's candidate pairs on ``layer``.

        Parameters
        ----------
        rule : Rule
            The rule.
        layer : str
            One of its layers (present and not empty).
        ctx : QueryContext
            The chunk being screened.

        Returns
        -------
        list of Job or None
            None: the candidates are the pairs touching the layer.
        """
        return None

    def finish(self, pairs: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
        """Narrow the pairs left after ``where``, project types and :meth:`select` (e.g. to the nearest).

        Parameters
        ----------
        pairs : DataFrame
            Candidate pairs (``f``, ``s`` and measurements).
        keep : ndarray of bool
            Pairs kept so far.

        Returns
        -------
        ndarray of bool
            Pairs to keep (``keep`` itself by default).
        """
        return keep

    def select(self, rule: Rule, layer: str, prepared: PreparedZoning, f: np.ndarray, types: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
        """Narrow the candidate pairs beyond the rule's ``where`` and project types.

        Parameters
        ----------
        rule : Rule
            The rule.
        layer : str
            The layer.
        prepared : PreparedZoning
            Prepared zoning.
        f : ndarray
            Feature index of each candidate pair.
        types : (ndarray, ndarray)
            Distinct site types and each pair's index into them.

        Returns
        -------
        ndarray of bool or None
            Pairs to keep (None: all).
        """
        return None


#: Mode name -> mode object, in registration order.
MODES: dict[str, RuleMode] = {}


def register(cls: type[RuleMode]) -> type[RuleMode]:
    """Class decorator: add a mode to :data:`MODES`.

    Parameters
    ----------
    cls : type
        A :class:`RuleMode` subclass with a unique ``name``.

    Returns
    -------
    type
        ``cls`` unchanged.
    """
    if not cls.name or cls.name in MODES:
        raise ValueError(f"rule mode needs a new name, got {cls.name!r}")
    MODES[cls.name] = cls()
    return cls


def mode_keys() -> set[str]:
    """Catalogue keys read by any registered mode.

    Returns
    -------
    set of str
        Keys.
    """
    return {k for mode in MODES.values() for k in mode.keys}


def where_values(label: str, layer: str, fname: str, values: Any) -> list[str]:
    """Normalise the values of a ``where`` condition on ``layer.fname`` through the field's vocabulary.

    Parameters
    ----------
    label : str
        Rule label for messages.
    layer : str
        Standard layer name.
    fname : str
        Standard field name of the layer.
    values : Any
        One value or a list of values.

    Returns
    -------
    list of str
        The values, canonical for an enum field.

    Raises
    ------
    RuleError
        The layer has no such field, or an enum value is not in its vocabulary.
    """
    spec = LAYERS[layer]
    if fname not in spec.field_names:
        raise RuleError(
            f"{label}：图层 {layer} 没有字段 {fname}；可用：{', '.join(spec.field_names)}",
            f"{label}: layer {layer} has no field {fname}; valid: {', '.join(spec.field_names)}",
        )
    field_spec = spec.field(fname)
    vals = [str(v) for v in (values if isinstance(values, list) else [values])]
    if field_spec.kind != "enum":
        return vals
    table = field_spec.lookup()
    bad = [v for v in vals if table.get(clean_key(v)) is None]
    if bad:
        raise RuleError(
            f"{label}：{layer}.{fname} 的取值 {bad} 无效；可用：{', '.join(field_spec.values)}",
            f"{label}: invalid values {bad} for {layer}.{fname}; valid: {', '.join(field_spec.values)}",
        )
    return [table[clean_key(v)] for v in vals]


def _distance_jobs(rule: Rule, layer: str, ctx: QueryContext, distance: float, away: np.ndarray | None) -> list[Job]:
    """One distance query per feature range of ``layer``."""
    query: Callable[..., pd.DataFrame] = distance_pairs
    return [((layer, lo, hi), query, ctx.tree, ctx.sites, ctx.prepared, layer, lo, hi, distance, away) for lo, hi in ctx.layer_ranges(layer)]


@register
class Intersects(RuleMode):
    """``intersects`` (the default): the site touches a feature (or its reach, e.g. a corridor's width)."""

    name = "intersects"


@register
class Buffer(RuleMode):
    """``buffer``: within ``buffer_m`` metres of a feature, or within each feature's own reach (``width``)."""

    name = "buffer"
    keys = ("buffer_m",)

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        buffer_m = raw.get("buffer_m")
        if buffer_m == "width":
            wide = [name for name, spec in LAYERS.items() if spec.reach is not None]
            if not layers or any(layer not in wide for layer in layers):
                raise RuleError(
                    f"{label}：buffer_m: width 只适用于 {', '.join(wide)} 图层。", f"{label}: buffer_m: width needs layer {', '.join(wide)}"
                )
        elif not isinstance(buffer_m, (int, float)) or isinstance(buffer_m, bool) or buffer_m < 0:
            raise RuleError(f"{label}：buffer 模式需要 buffer_m（米，≥0）或 width。", f"{label}: buffer mode needs buffer_m (metres >= 0) or width")
        return {"buffer_m": buffer_m}

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:  # noqa: D102
        if rule.buffer_m == "width":
            return None  # the touched pairs already reach each feature's width
        return _distance_jobs(rule, layer, ctx, float(rule.buffer_m) + TOUCH_M, None)


@register
class Near(RuleMode):
    """``near``: outside the layer but within ``distance_m`` metres of a feature."""

    name = "near"
    keys = ("distance_m",)

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        distance_m = raw.get("distance_m")
        if not isinstance(distance_m, (int, float)) or isinstance(distance_m, bool) or distance_m <= 0:
            raise RuleError(f"{label}：near 模式需要 distance_m（米，>0）。", f"{label}: near mode needs distance_m (metres > 0)")
        return {"distance_m": float(distance_m)}

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:  # noqa: D102
        away = None
        touched = ctx.touch.get(layer)
        if touched is not None and len(touched):
            away = np.ones(len(ctx.sites), dtype=bool)
            away[touched["s"].to_numpy()] = False
        return _distance_jobs(rule, layer, ctx, float(rule.distance_m), away)


@register
class Outside(RuleMode):
    """``outside``: some part of the site lies beyond the layer (its features meeting ``where``).

    On ``boundary`` the part beyond the planning area; on any other layer the
    part inside the planning area that no feature covers ("outside every
    industrial park", "outside the development boundary"), naming the nearest
    feature and the distance to it.
    """

    name = "outside"

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:  # noqa: D102
        if layer == "boundary":
            return [(("boundary", 0, 0), outside_pairs, ctx.prepared, ctx.sites)]
        selected = ctx.prepared.where_mask(rule.id, layer, rule.where)
        # Same group as the boundary job: both use the prepared boundary, which two threads must not share.
        return [(("boundary", 0, 0), outside_layer_pairs, ctx.prepared, ctx.sites, layer, selected, ctx.nearest)]


@register
class Within(RuleMode):
    """``within``: within ``distance_m`` metres of a feature, inside it included; the hit names the nearest.

    For receptors ("heavy-metal works within 1,000 m of a school"): one hit per
    site, the nearest feature meeting ``where`` and its distance (0 inside a polygon).
    """

    name = "within"
    keys = ("distance_m",)

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        return MODES["near"].validate(raw, layers, label)

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:  # noqa: D102
        return _distance_jobs(rule, layer, ctx, float(rule.distance_m), None)

    def finish(self, pairs: pd.DataFrame, keep: np.ndarray) -> np.ndarray:  # noqa: D102
        sel = np.flatnonzero(keep)
        if not len(sel):
            return keep
        # Nearest first per site (ties: lower feature index), then the first row of each site.
        order = sel[np.lexsort((pairs["f"].to_numpy()[sel], pairs["distance_m"].to_numpy()[sel], pairs["s"].to_numpy()[sel]))]
        s = pairs["s"].to_numpy()[order]
        first = order[np.r_[True, s[1:] != s[:-1]]]
        out = np.zeros(len(keep), dtype=bool)
        out[first] = True
        return out


def _listed(prepared: PreparedZoning, layer: str, column: str, f: np.ndarray, types: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: does the feature's type list name the site's type (or an ancestor), and is the list empty."""
    lists = prepared.type_lists(layer, column)
    uniq, code = types
    if not lists or not len(f):
        return np.zeros(len(f), dtype=bool), np.ones(len(f), dtype=bool)
    lineage = [set(prepared.types.lineage(t)) for t in uniq]
    matrix = np.array([[bool(terms & lin) for lin in lineage] for terms in lists], dtype=bool)  # features x distinct types
    empty = np.array([not terms for terms in lists], dtype=bool)
    return matrix[f, code], empty[f]


@register
class Listed(RuleMode):
    """``listed``: the feature's project-type list (``list_field``) names the site's type.

    ``match: unlisted`` turns it round: the list is not empty and does not
    name the type (a park's 主导产业 that the project is not among).
    """

    name = "listed"
    keys = ("list_field", "match")

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        field_name = raw.get("list_field")
        for layer in layers:
            lists = [f.name for f in LAYERS[layer].fields if f.kind == "types"]
            if field_name not in lists:
                raise RuleError(
                    f"{label}：listed 模式需要 list_field，取图层 {layer} 的项目类型清单字段之一：{', '.join(lists) or '（无）'}",
                    f"{label}: listed mode needs list_field, one of layer {layer}'s type-list fields: {', '.join(lists) or '(none)'}",
                )
        match = raw.get("match", "listed")
        if match not in ("listed", "unlisted"):
            raise RuleError(f"{label}：match 只能是 listed 或 unlisted。", f"{label}: match must be listed or unlisted")
        return {"list_field": field_name, "match": match}

    def select(self, rule: Rule, layer: str, prepared: PreparedZoning, f: np.ndarray, types: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:  # noqa: D102
        named, empty = _listed(prepared, layer, rule.params["list_field"], f, types)
        return named if rule.params["match"] == "listed" else ~named & ~empty


@register
class UnitProhibited(RuleMode):
    """``unit_prohibited``: the unit's own 准入清单 (a control unit's or a sea unit's) bans the site's project type."""

    name = "unit_prohibited"

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        if not layers or any("prohibited" not in LAYERS[layer].field_names for layer in layers):
            raise RuleError(
                f"{label}：unit_prohibited 只适用于有禁止类字段的单元图层（control_unit、sea_unit）。",
                f"{label}: unit_prohibited needs a unit layer with a prohibited field (control_unit, sea_unit)",
            )
        return {}

    def select(self, rule: Rule, layer: str, prepared: PreparedZoning, f: np.ndarray, types: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:  # noqa: D102
        return _listed(prepared, layer, "prohibited", f, types)[0]


def setback_pairs(
    tree: shapely.STRtree,
    sg: np.ndarray,
    prepared: PreparedZoning,
    layer: str,
    lo: int,
    hi: int,
    setback: np.ndarray,
) -> pd.DataFrame:
    """Pairs of features ``lo:hi`` whose control-zone outer edge lies within the feature's setback of a site.

    The control zone of a feature is its reach (a road's 建筑控制区: centre line plus 公路用地
    half-width plus the 第十一条 width); ``distance_m`` is measured from that outer edge
    (0 inside the zone).

    Parameters
    ----------
    tree : shapely.STRtree
        Tree over ``sg``.
    sg : ndarray
        Site geometries.
    prepared : PreparedZoning
        Prepared zoning.
    layer : str
        Layer with a reach (corridor).
    lo, hi : int
        Feature range.
    setback : ndarray of float
        Required distance beyond the outer edge, per feature of the layer (NaN: the feature is not concerned).

    Returns
    -------
    DataFrame
        ``f``, ``s``, ``distance_m`` (from the outer edge), ``label``.
    """
    reach = prepared.reach.get(layer, np.zeros(len(prepared.geoms[layer])))
    pairs = distance_pairs(tree, sg, prepared, layer, lo, hi, float(np.nanmax(np.r_[reach[lo:hi] + np.nan_to_num(setback[lo:hi]), 0.0])), None)
    f = pairs["f"].to_numpy()
    edge = np.maximum(pairs["distance_m"].to_numpy() - reach[f], 0.0)
    keep = ~np.isnan(setback[f]) & (edge < setback[f])
    pairs = pairs.loc[keep].reset_index(drop=True)
    pairs["distance_m"] = edge[keep]
    return pairs


@register
class Setback(RuleMode):
    """``setback``: closer than ``setback_m`` to a feature's control-zone outer edge (its reach).

    For 《公路安全保护条例》第十四条: new villages, schools, markets ... must keep a distance
    from the road's 建筑控制区 outer edge, by road class (``setback_m: {national: 50, county: 20}``,
    read from ``class_field``).  The hit names the feature and the distance from the outer edge.
    """

    name = "setback"
    keys = ("setback_m", "class_field")

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        setback = raw.get("setback_m")
        field_name = raw.get("class_field")
        ok = isinstance(setback, Mapping) and setback and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in setback.values()
        )
        if not ok or not field_name:
            raise RuleError(
                f"{label}：setback 模式需要 class_field（分级字段）和 setback_m（各级距离，米，>0），如 {{national: 50, county: 20}}。",
                f"{label}: setback mode needs class_field and setback_m (metres > 0 per class), e.g. {{national: 50, county: 20}}",
            )
        for layer in layers:
            spec = LAYERS[layer]
            if spec.reach is None or field_name not in spec.field_names:
                raise RuleError(
                    f"{label}：setback 模式需要有控制宽度的图层及其字段 {field_name}；图层 {layer} 不符合。",
                    f"{label}: setback mode needs a layer with a reach and field {field_name}; layer {layer} is not one",
                )
            values = spec.field(field_name).values
            bad = [k for k in setback if k not in values]
            if bad:
                raise RuleError(
                    f"{label}：setback_m 的分级 {bad} 无效；可用：{', '.join(values)}",
                    f"{label}: setback_m classes {bad} are invalid; valid: {', '.join(values)}",
                )
        return {"setback_m": {str(k): float(v) for k, v in setback.items()}, "class_field": str(field_name)}

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:  # noqa: D102
        attrs = ctx.prepared.attrs[layer]
        cls = attrs[rule.params["class_field"]] if rule.params["class_field"] in attrs else pd.Series([None] * len(attrs))
        setback = cls.astype(object).map(rule.params["setback_m"]).to_numpy(dtype=float)
        return [((layer, lo, hi), setback_pairs, ctx.tree, ctx.sites, ctx.prepared, layer, lo, hi, setback) for lo, hi in ctx.layer_ranges(layer)]

    def finish(self, pairs: pd.DataFrame, keep: np.ndarray) -> np.ndarray:  # noqa: D102
        return MODES["within"].finish(pairs, keep)


def overlay_pairs(pairs: pd.DataFrame | None, keep_sites: np.ndarray) -> pd.DataFrame:
    """Touching pairs whose site is marked in ``keep_sites``.

    Parameters
    ----------
    pairs : DataFrame or None
        Pairs touching the rule's layer (``f``, ``s`` and measurements).
    keep_sites : ndarray of bool
        Per site of the chunk: keep its pairs.

    Returns
    -------
    DataFrame
        The kept pairs (possibly none).
    """
    if pairs is None or not len(pairs):
        return pd.DataFrame({"f": np.zeros(0, dtype=np.int64), "s": np.zeros(0, dtype=np.int64)})
    return pairs.loc[keep_sites[pairs["s"].to_numpy()]].reset_index(drop=True)


def _sites_in(ctx: QueryContext, specs: tuple[tuple[str, Mapping[str, tuple[str, ...]]], ...]) -> np.ndarray:
    """Per site of the chunk: does it touch a feature of any listed layer meeting that layer's ``where``."""
    inside = np.zeros(len(ctx.sites), dtype=bool)
    for layer, where in specs:
        pairs = ctx.touch.get(layer)
        if pairs is None or not len(pairs):
            continue
        f, s = pairs["f"].to_numpy(), pairs["s"].to_numpy()
        attrs = ctx.prepared.attrs[layer]
        mask = np.ones(len(attrs), dtype=bool)
        for fname, allowed in where.items():
            col = attrs[fname] if fname in attrs else pd.Series([None] * len(attrs))
            mask &= col.astype("string").isin(list(allowed)).fillna(False).to_numpy()
        inside[s[mask[f]]] = True
    return inside


@register
class Overlay(RuleMode):
    """``overlay``: the site touches the layer and also lies (``also_in``) or does not lie (``unless_in``) in others.

    For a clause that defers to another area's own law: 142号 一（一） "生态保护红线内自然保护区、
    风景名胜区、饮用水水源保护区等区域，依照法律法规执行" — its list of allowed activities applies in the red
    line only outside those areas.  Each entry is ``{layer: name, where: {field: values}}``.
    """

    name = "overlay"
    keys = ("also_in", "unless_in")

    def validate(self, raw: Mapping[str, Any], layers: tuple[str, ...], label: str) -> dict[str, Any]:  # noqa: D102
        given = [k for k in self.keys if raw.get(k)]
        if len(given) != 1:
            raise RuleError(
                f"{label}：overlay 模式需要 also_in 或 unless_in（二选一），每项为 {{layer: 图层, where: {{字段: 取值}}}}。",
                f"{label}: overlay mode needs exactly one of also_in / unless_in, each item {{layer: name, where: {{field: values}}}}",
            )
        specs = []
        for item in raw[given[0]] if isinstance(raw[given[0]], list) else [raw[given[0]]]:
            layer = item.get("layer") if isinstance(item, Mapping) else None
            if layer not in LAYERS:
                raise RuleError(
                    f"{label}：{given[0]} 的图层 {layer!r} 无效；可用：{', '.join(LAYERS)}",
                    f"{label}: {given[0]} layer {layer!r} is invalid; valid: {', '.join(LAYERS)}",
                )
            where: dict[str, tuple[str, ...]] = {}
            for fname, values in (item.get("where") or {}).items():
                where[str(fname)] = tuple(dict.fromkeys(where_values(label, layer, str(fname), values)))
            specs.append((str(layer), where))
        return {"overlay": given[0], "areas": tuple(specs)}

    def jobs(self, rule: Rule, layer: str, ctx: QueryContext) -> list[Job] | None:  # noqa: D102
        inside = _sites_in(ctx, rule.params["areas"])
        keep = inside if rule.params["overlay"] == "also_in" else ~inside
        return [(("overlay", rule.id, layer), overlay_pairs, ctx.touch.get(layer), keep)]
