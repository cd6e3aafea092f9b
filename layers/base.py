"""Layer schema machinery shared by every zoning layer kind.

A :class:`LayerSpec` says which standard fields a layer has, which source
column names (Chinese, English, national 成果数据 codes) map onto them, and
which value synonyms normalise onto canonical values.  ``normalise`` turns a
raw GeoDataFrame into the standard shape, collecting *every* offending row
before raising, so a planner fixes the data once rather than row by row.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.errors import DataWarning, SchemaError

__all__ = ["FieldSpec", "LayerSpec", "ClassStyle", "IndicatorRole", "fill_style", "line_styles", "REACH_SUFFIX", "clean_key", "format_rows"]

#: Class-key suffix of the zone a feature reaches (a corridor's control buffer).
REACH_SUFFIX = ":buffer"

FieldKind = Literal["text", "enum", "number", "types"]
GeometryKind = Literal["polygon", "line_or_polygon", "point_or_polygon", "any"]

_SPACE = re.compile(r"[\s\u3000]+")


def clean_key(value: Any) -> str:
    """Fold a column name or value for matching: NFKC, no spaces, lower case.

    Parameters
    ----------
    value : Any
        A column name or attribute value.

    Returns
    -------
    str
        The folded text ('' for missing values); ``1.0`` folds to ``'1'``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACE.sub("", text).lower()


def format_rows(rows: list[Any], limit: int = 30) -> str:
    """List offending rows compactly, eliding past ``limit``.

    Parameters
    ----------
    rows : list
        Row labels or descriptions.
    limit : int, default 30
        How many to show before '… (N more)'.

    Returns
    -------
    str
        Comma-separated listing.
    """
    shown = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        shown += f", … (+{len(rows) - limit})"
    return shown


@dataclass(frozen=True)
class FieldSpec:
    """One standard field of a layer.

    Parameters
    ----------
    name : str
        Standard field name.
    label_zh : str
        Chinese label used in messages and maps.
    aliases : tuple of str
        Source column names recognised without a manifest (matched folded).
    kind : {'text', 'enum', 'number', 'types'}
        How values are normalised; ``types`` is text holding a list of
        project types (a unit's 禁止类), read with the vocabulary when screening.
    values : mapping
        For enums: canonical value -> synonyms (the canonical value itself is
        always accepted).
    required : bool
        A layer without this column (and no default) is an error.
    default : Any
        Value used when the column is absent or a cell is empty.
    derive : callable, optional
        When the column is absent, compute the field from the other,
        already normalised fields (a warning says so).
    """

    name: str
    label_zh: str
    aliases: tuple[str, ...] = ()
    kind: FieldKind = "text"
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    required: bool = False
    default: Any = None
    derive: Callable[[pd.DataFrame], pd.Series] | None = None

    def lookup(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return the folded-synonym -> canonical value table for an enum.

        Parameters
        ----------
        extra : mapping, optional
            Additional synonyms from a manifest (``source value: canonical``).

        Returns
        -------
        dict
            Folded synonym to canonical value.
        """
        table: dict[str, str] = {}
        for canon, syns in self.values.items():
            for s in (canon, *syns):
                table[clean_key(s)] = canon
        for src, canon in (extra or {}).items():
            table[clean_key(src)] = str(canon)
        return table


@dataclass(frozen=True)
class ClassStyle:
    """Map style of one legend class of a layer.

    Parameters
    ----------
    label_zh, label_en : str
        Legend text.
    style : mapping
        Leaflet path options (``color``, ``weight``, ``fillColor``,
        ``fillOpacity``, ``dashArray`` ...); the static maps read the same keys.
    kind : {'fill', 'line', 'outline'}
        How the legend swatch is drawn.
    """

    label_zh: str
    label_en: str
    style: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "fill"


def fill_style(colour: str, opacity: float, *, line: str | None = None, weight: float = 1.0) -> dict[str, Any]:
    """Leaflet options of a filled polygon class.

    Parameters
    ----------
    colour : str
        Fill colour (and outline colour unless ``line`` is given).
    opacity : float
        Fill opacity.
    line : str, optional
        Outline colour.
    weight : float, default 1.0
        Outline width (px).

    Returns
    -------
    dict
        Path options.
    """
    return {"color": line or colour, "weight": weight, "opacity": 0.9, "fillColor": colour, "fillOpacity": opacity}


def line_styles(
    layer: str, classes: dict[str, tuple[str, str, str, str, str]], *, weight: float, fill_opacity: float
) -> dict[str, ClassStyle]:
    """Legend classes of a line layer with a reach: per kind the line, then its control buffer.

    Parameters
    ----------
    layer : str
        Layer name (class keys are ``layer:kind`` and ``layer:kind`` + :data:`REACH_SUFFIX`).
    classes : dict
        Kind -> ``(label_zh, label_en, line colour, buffer fill colour, buffer outline colour)``.
    weight : float
        Line width (px).
    fill_opacity : float
        Buffer fill opacity.

    Returns
    -------
    dict of str to ClassStyle
        Class key -> style, a kind's line before its buffer; buffers are labelled ``…控制范围`` / ``… buffer``.
    """
    out: dict[str, ClassStyle] = {}
    for kind, (zh, en, colour, fill, outline) in classes.items():
        out[f"{layer}:{kind}"] = ClassStyle(zh, en, {"color": colour, "weight": weight, "opacity": 1}, "line")
        out[f"{layer}:{kind}{REACH_SUFFIX}"] = ClassStyle(
            f"{zh}控制范围", f"{en} buffer", fill_style(fill, fill_opacity, line=outline, weight=0.5)
        )
    return out


@dataclass(frozen=True)
class IndicatorRole:
    """How ``ecozone indicators`` measures a layer.

    Parameters
    ----------
    kind : {'area', 'count', 'length', 'none'}
        Dissolved area (and share of the land area); units counted and
        measured per ``category``; dissolved line length per value of
        ``by`` (``<layer>_length_km_<value>``); ``none``: not measured.
    area : str, optional
        Indicator name of the dissolved area in km² (``area`` kind;
        default ``<layer>_area_km2``).
    ratio : str, optional
        Indicator name of the area's share of the land area in % (none: not reported).
    by : str, optional
        ``length`` kind: the field whose values the lengths are reported by.
    labels : mapping
        ``length`` kind: value of ``by`` -> Chinese indicator label (``河流廊道``).
    share : tuple of str, optional
        ``length`` kind: ``(value, indicator, label_zh, label_en)``: the value's
        geodesic length as a share (%) of the layer's whole dissolved length
        (自然岸线保有率).
    """

    kind: Literal["area", "count", "length", "none"] = "area"
    area: str | None = None
    ratio: str | None = None
    by: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    share: tuple[str, str, str, str] | None = None


#: A layer indicators do not measure (declared, so a forgotten role is caught).
NOT_MEASURED = IndicatorRole("none")

#: 附图 groups a layer's map belongs to, in figure order.
FIGURE_GROUPS = ("ecology", "units", "land")
#: Report sections with a row per layer, in report order.
REPORT_SECTIONS = ("redline", "quality", "coast", "other")


@dataclass(frozen=True)
class ReportRole:
    """Where a layer appears in the EIA report and its numbered 附图.

    Parameters
    ----------
    section : {'redline', 'quality', 'coast', 'other'} or None
        Site-analysis table with a row for the layer (生态保护红线 /
        环境质量底线和资源利用上线 / 其他空间管控要求); None: no row of its
        own (context such as the boundary, or a layer with rows of its own
        kind such as the control units).
    order : int
        Row order inside the section (and map order inside the 附图 group).
    constraint : bool
        A site inside it is listed as 涉及 in the summary (a place a project
        should not be; not the development boundary).
    figure : {'ecology', 'units', 'land'} or None
        The 附图 group drawing the layer (None: none).
    control_zone : bool
        A site with a finding on the layer is listed as 涉及 ``<label>管控范围``
        in the summary (its rules reach beyond the features: corridor widths,
        distances from sensitive receptors).
    """

    section: Literal["redline", "quality", "coast", "other"] | None
    order: int
    constraint: bool
    figure: Literal["ecology", "units", "land"] | None
    control_zone: bool


@dataclass(frozen=True)
class LayerSpec:
    """Schema of one standard zoning layer.

    Parameters
    ----------
    name : str
        Standard layer name (``redline``, ``control_unit`` ...).
    label_zh, label_en : str
        Human names.
    geometry : {'polygon', 'line_or_polygon', 'point_or_polygon', 'any'}
        Geometry family the layer must hold.
    fields : tuple of FieldSpec
        Standard fields.
    aliases : tuple of str
        Layer names (GeoPackage layer or file stem) recognised as this layer.
    id_field, name_field : str or None
        Which standard field identifies / names a feature in reports.
    reach : callable, optional
        Metres each feature reaches beyond its drawn geometry (a corridor's
        control width), from the normalised attribute table.  A site within
        that distance counts as touching the feature.
    status : int or None
        Position in every site's 涉及/不涉及 list (None: not listed).
    summary : {'involved', 'unit'}
        How the layer enters a site's summary sentence: in the 涉及/不涉及
        lists, or as the site's own unit (所在管控单元).
    short_en : str
        Short English name for map layer controls and legends.
    draw_order : int
        Stacking on maps, bottom first: big background units under small strict zones.
    class_field : str, optional
        Standard field that splits the layer into legend classes.
    styles : mapping
        Class key (``layer`` or ``layer:value``; ``+ REACH_SUFFIX`` for the
        reach zone) -> :class:`ClassStyle`, in legend order.
    hidden : bool
        Listed but not shown when the interactive map opens.
    indicator : IndicatorRole
        How indicators measure the layer (:data:`NOT_MEASURED`: not measured;
        None only for extra layers that are not standard kinds).
    report : ReportRole
        Report section, constraint flag and 附图 group (None only for extra layers).
    nearest : bool
        ``sites.csv`` gets ``<layer>_distance_m``/``<layer>_nearest`` and the
        report the site's facts (inside, overlap, nearest feature) for it.
    status_words : (str, str)
        Status of a site inside / outside the layer (``涉及`` / ``不涉及``).
    status_concern : bool
        Whether being inside is a concern (a red 涉及).  Not for the
        development boundary or a park: inside them is where a project belongs.
    column_defaults : mapping
        Source column name -> ``{field: value}`` defaults that apply when the
        source has that column (national 成果 codes such as ``DQHJGKFQBM``
        say which element a layer holds).  A manifest's ``defaults`` win.
    check : callable, optional
        Cross-field validation of the normalised fields: returns
        ``(zh, en)`` problems naming the offending rows.
    kind_field : str, optional
        Standard field whose values are different kinds of feature (roads and
        rivers, air and soil zones), not grades of one kind: the report gives
        the rules about each kind their own row, answered by that kind's facts.
    standard : bool
        Every screening needs this layer whatever the project type (红线, 自然保护地,
        水源保护区, 管控单元, 永久基本农田, 城镇开发边界): a package without it (or
        with it empty) gives 待核实, never 不涉及, and ``validate`` reports it as an error.
    coastal : bool
        A layer of the coast (海岸线, 陆海分区, 近岸海域环境管控单元): rules reading it make it
        needed only in a package that has a coast (a non-empty coastal layer);
        an inland county is not asked for its shoreline.
    """

    name: str
    label_zh: str
    label_en: str
    geometry: GeometryKind
    fields: tuple[FieldSpec, ...]
    aliases: tuple[str, ...] = ()
    id_field: str | None = "id"
    name_field: str | None = "name"
    reach: Callable[[pd.DataFrame], np.ndarray] | None = None
    status: int | None = None
    summary: Literal["involved", "unit"] = "involved"
    short_en: str = ""
    draw_order: int = 100
    class_field: str | None = None
    styles: Mapping[str, ClassStyle] = field(default_factory=dict)
    hidden: bool = False
    indicator: IndicatorRole | None = None
    report: ReportRole | None = None
    nearest: bool = True
    status_words: tuple[str, str] = ("涉及", "不涉及")
    status_concern: bool = True
    column_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    check: Callable[[pd.DataFrame], list[tuple[str, str]]] | None = None
    kind_field: str | None = None
    standard: bool = False
    coastal: bool = False

    def reach_zones(self, layer: gpd.GeoDataFrame) -> gpd.GeoSeries:
        """Return each feature's reach zone: the feature buffered by its :attr:`reach`.

        The layer must be in a metric CRS.  Polygons (double-line rivers) are
        buffered from their edges, lines from their centre line.

        Parameters
        ----------
        layer : GeoDataFrame
            The normalised layer in a projected CRS.

        Returns
        -------
        GeoSeries
            Buffer polygons aligned with ``layer`` (the features themselves without a reach).
        """
        if self.reach is None:
            return layer.geometry
        zones = shapely.buffer(layer.geometry.values, self.reach(layer), quad_segs=16)
        return gpd.GeoSeries(zones, index=layer.index, crs=layer.crs)

    @property
    def field_names(self) -> list[str]:
        """Standard field names in schema order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        """Return the spec of standard field ``name``.

        Parameters
        ----------
        name : str
            Standard field name.

        Returns
        -------
        FieldSpec
            Its spec.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def match_columns(
        self, columns: list[str], field_map: Mapping[str, str] | None = None, *, source: str = ""
    ) -> dict[str, str]:
        """Decide which source column feeds each standard field.

        Parameters
        ----------
        columns : list of str
            The source's attribute columns.
        field_map : mapping, optional
            Explicit ``standard: source`` mapping from a manifest; wins.
        source : str
            File name for messages.

        Returns
        -------
        dict
            Standard field -> source column, for the fields found.
        """
        folded = {clean_key(c): c for c in columns}
        found: dict[str, str] = {}
        for std, src in (field_map or {}).items():
            if std not in self.field_names:
                raise SchemaError(
                    f"{source}：清单中的字段 '{std}' 不是图层 {self.name}（{self.label_zh}）的标准字段；"
                    f"可用：{', '.join(self.field_names)}",
                    f"{source}: '{std}' is not a standard field of layer {self.name}; "
                    f"valid: {', '.join(self.field_names)}",
                )
            if src not in columns and clean_key(src) not in folded:
                raise SchemaError(
                    f"{source}：清单把 {self.name}.{std} 映射到字段 '{src}'，但文件中没有该字段；"
                    f"文件中的字段：{', '.join(columns)}",
                    f"{source}: the manifest maps {self.name}.{std} to '{src}', which the file "
                    f"lacks; its fields: {', '.join(columns)}",
                )
            found[std] = src if src in columns else folded[clean_key(src)]
        used = set(found.values())
        for f in self.fields:
            if f.name in found:
                continue
            for cand in (f.name, *f.aliases):
                col = folded.get(clean_key(cand))
                if col is not None and col not in used:
                    found[f.name] = col
                    used.add(col)
                    break
        return found

    def normalise(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        field_map: Mapping[str, str] | None = None,
        value_map: Mapping[str, Mapping[str, str]] | None = None,
        defaults: Mapping[str, Any] | None = None,
        source: str = "",
    ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
        """Return the layer in standard shape, plus the field mapping used.

        Standard columns come first with canonical values, then a unique
        ``feature_id``, then the source's other columns (kept for popups),
        then ``geometry``.

        Parameters
        ----------
        gdf : GeoDataFrame
            The layer as read.
        field_map : mapping, optional
            Manifest ``fields``.
        value_map : mapping, optional
            Manifest ``values``: standard field -> {source value: canonical}.
        defaults : mapping, optional
            Manifest ``defaults``: standard field -> value for absent/empty cells.
        source : str
            File (and layer) name for messages.

        Returns
        -------
        (GeoDataFrame, dict)
            The normalised layer and the standard->source field mapping.

        Raises
        ------
        SchemaError
            Required fields missing, or values not in the vocabulary (every
            offending row listed).
        """
        defaults = dict(defaults or {})
        columns = [c for c in gdf.columns if c != gdf.geometry.name]
        present = {clean_key(c) for c in columns}
        for col, implied in self.column_defaults.items():
            if clean_key(col) in present:
                for k, v in implied.items():
                    defaults.setdefault(k, v)
        mapping = self.match_columns(columns, field_map, source=source)
        out = pd.DataFrame(index=gdf.index)
        problems: list[tuple[str, str]] = []
        for f in self.fields:
            default = defaults.get(f.name, f.default)
            if f.name not in mapping:
                if f.derive is not None and default is None:
                    continue  # filled in below, once the fields it reads are normalised
                if f.required and default is None:
                    problems.append(
                        (
                            f"缺少必需字段 {f.name}（{f.label_zh}）；在清单 fields 中写 `{f.name}: 源字段名`，"
                            f"或在 defaults 中给默认值。可识别的字段名：{', '.join(f.aliases[:8])}",
                            f"required field {f.name} missing; map it in the manifest "
                            f"(`fields: {{{f.name}: SOURCE}}`) or give `defaults`",
                        )
                    )
                    continue
                out[f.name] = default if f.kind != "number" else pd.to_numeric(default)
                continue
            raw = gdf[mapping[f.name]]
            if f.kind == "enum":
                out[f.name], bad = _normalise_enum(raw, f, (value_map or {}).get(f.name), default)
                if bad:
                    valid = "、".join(f"{c}（{'/'.join(s[:3])}）" for c, s in f.values.items())
                    problems.append(
                        (
                            f"字段 {mapping[f.name]}→{f.name}（{f.label_zh}）有无法识别的取值，行：{format_rows(bad)}。"
                            f"有效取值：{valid}；或在清单 values 中补充同义词",
                            f"unrecognised {f.name} values in rows {format_rows(bad)}; valid: "
                            f"{', '.join(f.values)}; or add synonyms under the manifest's `values`",
                        )
                    )
            elif f.kind == "number":
                num = pd.to_numeric(raw, errors="coerce")
                bad = [f"{i}: {raw[i]!r}" for i in raw.index[num.isna() & raw.notna() & (raw.astype(str).str.strip() != "")]]
                if bad:
                    problems.append(
                        (
                            f"字段 {mapping[f.name]}→{f.name} 应为数值，行：{format_rows(bad)}",
                            f"field {f.name} must be numeric; rows {format_rows(bad)}",
                        )
                    )
                out[f.name] = num if default is None else num.fillna(default)
            else:
                txt = raw.astype("string").str.strip()
                out[f.name] = txt.where(txt.notna() & (txt != ""), default)
        for f in self.fields:
            if f.name not in out and f.derive is not None and not problems:
                out[f.name] = f.derive(out)
                warnings.warn(
                    f"{source}：图层 {self.name} 没有 {f.name}（{f.label_zh}）字段，已根据其他字段推断；"
                    f"如有误请在清单 fields 中指定。 / {self.name}.{f.name} missing: inferred from other fields",
                    DataWarning,
                    stacklevel=3,
                )
        if self.check is not None and not problems:
            problems.extend(self.check(out))
        if problems:
            zh = "；\n".join(p[0] for p in problems)
            en = "; ".join(p[1] for p in problems)
            raise SchemaError(
                f"{source}（图层 {self.name} {self.label_zh}）：{zh}",
                f"{source} (layer {self.name}): {en}",
            )
        out["feature_id"] = self._feature_ids(out, gdf.index, source)
        extra = [c for c in gdf.columns if c != gdf.geometry.name and c not in mapping.values() and c not in out.columns]
        for c in extra:
            out[c] = gdf[c]
        result = gpd.GeoDataFrame(out, geometry=gdf.geometry.values, crs=gdf.crs)
        return result.reset_index(drop=True), mapping

    def _feature_ids(self, out: pd.DataFrame, index: pd.Index, source: str) -> pd.Series:
        """Return unique string ids: the id field where present, row numbers otherwise."""
        if self.id_field and self.id_field in out and out[self.id_field].notna().any():
            ids = out[self.id_field].astype("string")
            ids = ids.where(ids.notna(), pd.Series([f"{self.name}-{i + 1}" for i in range(len(ids))], index=ids.index))
            dup = ids.duplicated(keep=False)
            if dup.any():
                rows = [f"{ids[i]}" for i in ids.index[dup]]
                warnings.warn(
                    f"{source}：图层 {self.name} 的编号重复（{format_rows(sorted(set(rows)))}），已追加序号区分；"
                    f"可运行 ecozone validate 查看。 / duplicate ids in layer {self.name}; suffixed to keep them apart",
                    DataWarning,
                    stacklevel=3,
                )
                n = ids.groupby(ids).cumcount()
                ids = ids.where(~dup | (n == 0), ids + "#" + (n + 1).astype(str))
            return ids.astype(str)
        return pd.Series([f"{self.name}-{i + 1}" for i in range(len(index))], index=out.index, dtype=str)


def _normalise_enum(
    raw: pd.Series, spec: FieldSpec, extra: Mapping[str, str] | None, default: Any
) -> tuple[pd.Series, list[str]]:
    """Map raw enum values to canonical ones; return the bad rows too."""
    table = spec.lookup(extra)
    folded = raw.map(clean_key)
    mapped = folded.map(table)
    empty = folded == ""
    bad_mask = mapped.isna() & ~empty
    mapped = mapped.where(~empty, default)
    bad = [f"{i}: {raw[i]!r}" for i in raw.index[bad_mask]]
    if spec.required and default is None:
        bad += [f"{i}: (空/empty)" for i in raw.index[empty]]
    return mapped.astype(object), bad
