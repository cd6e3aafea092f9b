"""Zoning integrity checks: what a reviewer would reject before any analysis.

Checks, each a :class:`Finding` with a stable ``code``:

* ``geometry_repaired`` / ``crs_warning`` / ``invalid_geometry`` -- invalid,
  empty or non-polygon geometry the loader had to repair or drop, or
  coordinates that look wrong for their CRS (the loader's warnings are
  captured, not raised; other loader notes such as an encoding guess become
  ``load_warning`` info);
* ``unit_gap`` / ``unit_overlap`` -- 三线一单 control units must tile the
  whole county: uncovered parts of the boundary and pairwise overlaps larger
  than the tolerance, each with its polygon;
* ``duplicate_code`` (control units) / ``duplicate_id`` (other layers);
* ``code_malformed`` / ``code_category_mismatch`` / ``code_admin_mismatch`` --
  unit codes are ZH + 6-digit admin code + 1/2/3 (priority/key/general) +
  4-digit serial;
* ``core_outside_redline`` -- 自然保护地核心保护区 must lie inside the red line;
* ``outside_boundary`` / ``partly_outside_boundary``;
* ``farmland_in_redline``, ``urban_boundary_in_protected_area``,
  ``mining_in_redline`` … -- conflicts between layers the plans name
  (永久基本农田, 城镇开发边界 or mining inside 自然保护地 / 生态保护红线).

Severity ``error`` and ``warning`` findings make the package unclean (exit 1);
``info`` findings are shown but do not count.  Pairwise work (overlaps,
conflicts) runs on STRtree bulk queries and vectorised intersections.
"""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers import REGISTRY
from layers.base import clean_key, format_rows
from layers.control_unit import CATEGORY_DIGIT, CATEGORY_ZH, CODE_PATTERN
from spatial.completeness import package_gaps
from spatial.crs import describe_crs
from spatial.errors import CRSWarning, DataWarning, GeometryRepairWarning
from spatial.measure import SLIVER_WIDTH_M, dissolve, ellipsoidal_area, significant_parts
from spatial.zoning import Zoning, load_zoning

__all__ = ["Finding", "ValidationReport", "validate_zoning", "MINING_LAYER_NAMES"]

Severity = Literal["error", "warning", "info"]

#: Extra layer names read as mining rights / mines (矿业权).
MINING_LAYER_NAMES = frozenset(
    clean_key(n)
    for n in ("mining", "mine", "mines", "mining_rights", "矿业权", "采矿权", "探矿权", "矿山", "采矿", "矿区", "kyq", "ckq")
)
_LABEL_ZH = {name: spec.label_zh for name, spec in REGISTRY.items()}
#: Feature ids listed in spatial.geometry.clean_geometries warnings.
_REPAIRED_IDS = re.compile(r"(?:repaired invalid|dropped empty): ([^；]*)")


@dataclass
class Finding:
    """One integrity problem.

    Parameters
    ----------
    code : str
        Stable identifier (``unit_gap``, ``duplicate_code`` …).
    severity : {'error', 'warning', 'info'}
        ``info`` does not make the package unclean.
    layer : str
        Layer concerned ('' when not one layer).
    feature_ids : tuple of str
        ``feature_id`` values concerned.
    message_zh, message_en : str
        The problem and the fix.
    area_m2 : float, optional
        Ellipsoidal area of the problem polygon.
    geometry : shapely geometry, optional
        Where, in the report's CRS.
    """

    code: str
    severity: Severity
    layer: str
    feature_ids: tuple[str, ...]
    message_zh: str
    message_en: str
    area_m2: float | None = None
    geometry: shapely.Geometry | None = None


@dataclass
class ValidationReport:
    """Result of :func:`validate_zoning`.

    Attributes
    ----------
    findings : list of Finding
        Everything found, in check order.
    crs : pyproj.CRS or None
        CRS of finding geometries (the zoning working CRS).
    path : str or None
        Package checked.
    tolerance_m2 : float
        Area below which gaps, overlaps and conflicts are ignored.
    """

    findings: list[Finding] = field(default_factory=list)
    crs: CRS | None = None
    path: str | None = None
    tolerance_m2: float = 1.0

    @property
    def counted(self) -> list[Finding]:
        """Findings that make the package unclean (severity error or warning)."""
        return [f for f in self.findings if f.severity in ("error", "warning")]

    @property
    def clean(self) -> bool:
        """True when nothing but ``info`` was found."""
        return not self.counted

    @property
    def exit_code(self) -> int:
        """CLI exit status: 0 clean, 1 findings."""
        return 0 if self.clean else 1

    def codes(self) -> Counter[str]:
        """Count findings by code.

        Returns
        -------
        Counter
            code -> number of findings.
        """
        return Counter(f.code for f in self.findings)

    def by_code(self, code: str) -> list[Finding]:
        """Return the findings with one code.

        Parameters
        ----------
        code : str
            Finding code.

        Returns
        -------
        list of Finding
            Matching findings.
        """
        return [f for f in self.findings if f.code == code]

    def to_frame(self) -> pd.DataFrame:
        """Return the findings as a table (no geometry).

        Returns
        -------
        DataFrame
            ``code``, ``severity``, ``layer``, ``feature_ids`` (``;``-joined),
            ``area_m2``, ``message_zh``, ``message_en``.
        """
        return pd.DataFrame(
            [
                {
                    "code": f.code,
                    "severity": f.severity,
                    "layer": f.layer,
                    "feature_ids": ";".join(f.feature_ids),
                    "area_m2": f.area_m2,
                    "message_zh": f.message_zh,
                    "message_en": f.message_en,
                }
                for f in self.findings
            ],
            columns=["code", "severity", "layer", "feature_ids", "area_m2", "message_zh", "message_en"],
        )

    def to_geodataframe(self, codes: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
        """Return the findings with their geometry as a GeoDataFrame.

        Parameters
        ----------
        codes : tuple of str, optional
            Keep only these codes.

        Returns
        -------
        GeoDataFrame
            Columns of :meth:`to_frame` plus geometry (None where a finding has none).
        """
        keep = [i for i, f in enumerate(self.findings) if codes is None or f.code in codes]
        frame = self.to_frame().iloc[keep].reset_index(drop=True)
        geoms = [self.findings[i].geometry for i in keep]
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=self.crs), crs=self.crs)

    @property
    def gaps(self) -> gpd.GeoDataFrame:
        """Gap polygons between control units (``unit_gap`` findings)."""
        return self.to_geodataframe(("unit_gap",))

    @property
    def overlaps(self) -> gpd.GeoDataFrame:
        """Overlap polygons between control units (``unit_overlap`` findings)."""
        return self.to_geodataframe(("unit_overlap",))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary (``validate.json``).

        Returns
        -------
        dict
            ``clean``, ``exit_code``, ``counts``, ``findings`` (without geometry) …
        """
        frame = self.to_frame()
        records = []
        for rec, f in zip(frame.to_dict("records"), self.findings, strict=True):
            rec["feature_ids"] = list(f.feature_ids)
            rec["area_m2"] = f.area_m2
            records.append(rec)
        return {
            "zoning": self.path,
            "crs": describe_crs(self.crs),
            "tolerance_m2": self.tolerance_m2,
            "clean": self.clean,
            "exit_code": self.exit_code,
            "counts": dict(self.codes()),
            "findings": records,
        }


# --------------------------------------------------------------------------- helpers
def _arr(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(gdf.geometry.values, dtype=object)


def _label(layer: str) -> str:
    return _LABEL_ZH.get(layer, layer)


def _warning_findings(caught: list[warnings.WarningMessage], layers: list[str]) -> list[Finding]:
    """Loader warnings -> findings (duplicate ids are checked directly instead)."""
    out: list[Finding] = []
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, DataWarning) and "duplicate ids" in text:
            continue
        layer = next((n for n in layers if f"（{_label(n)}）" in text or f"图层 {n} " in text), "")
        severity: Severity = "warning"
        if issubclass(w.category, GeometryRepairWarning):
            code = "geometry_repaired"
        elif issubclass(w.category, CRSWarning):
            code = "crs_warning"
        elif issubclass(w.category, (DataWarning, UserWarning)):
            # Encoding guesses and similar notes: worth showing, not a defect of the zoning.
            code, severity = "load_warning", "info"
        else:
            continue  # library deprecation chatter is not the planner's concern
        ids = tuple(
            i.strip()
            for m in _REPAIRED_IDS.finditer(text)
            for i in m.group(1).split(", ")
            if i.strip() and not i.strip().startswith("…")
        )
        # Loader messages are already bilingual (zh / en); keep them whole.
        out.append(Finding(code, severity, layer, ids, f"读取时：{text}", f"while loading: {text}"))
    return out


def _check_standard(z: Zoning) -> list[Finding]:
    """Find standard layers every screening needs that are absent, or control units without 准入清单.

    Empty standard layers are reported by :func:`_check_empty`.
    """
    out: list[Finding] = []
    for name, state in package_gaps(z).items():
        label = _label(name)
        if state == "absent":
            out.append(
                Finding(
                    "missing_layer",
                    "error",
                    name,
                    (),
                    f"缺少标准图层“{label}”（{name}）：每次筛查都须核查{label}，缺少时所有地块的相关结论只能是待核实，不能判为符合。"
                    f"请在分区数据中加入该图层（GeoPackage 图层名或 zoning.yaml 清单中的 {name}:）。",
                    f"standard layer {name} ({REGISTRY[name].label_en}) is missing: every screening must check it, so every site "
                    f"is 'to be verified' for it; add the layer to the package (GeoPackage layer or `{name}:` in zoning.yaml)",
                )
            )
        elif state == "no_list":
            out.append(
                Finding(
                    "missing_access_list",
                    "error",
                    name,
                    (),
                    f"{label}图层未附生态环境准入清单（禁止类、准入清单等字段均为空）：无法判断准入要求，结论只能是待核实。请补全各单元的准入清单。",
                    "the control units carry no environmental access list (prohibited / requirements fields all empty): "
                    "access requirements cannot be checked; add each unit's list",
                )
            )
    return out


def _check_empty(z: Zoning) -> list[Finding]:
    """Find standard layers present with no feature (every site would be told 不涉及 them)."""
    out: list[Finding] = []
    for name, gdf in z.layers.items():
        if name in REGISTRY and name != "boundary" and not len(gdf):
            out.append(
                Finding(
                    "empty_layer",
                    "error",
                    name,
                    (),
                    f"{_label(name)}图层为空（0 个要素）：无法判断地块是否涉及{_label(name)}，筛查对相关结论只能给出待核实。请补全该图层。",
                    f"the {name} layer is empty (0 features): whether a site is involved cannot be told, so screening gives "
                    "'to be verified'; fill the layer",
                )
            )
    return out


def _check_duplicates(z: Zoning) -> list[Finding]:
    out: list[Finding] = []
    for name, gdf in z.layers.items():
        spec = z.spec(name)
        col = spec.id_field
        if not col or col not in gdf or not len(gdf):
            continue
        vals = gdf[col].astype("string")
        dup = vals.notna() & vals.duplicated(keep=False)
        if not dup.any():
            continue
        is_unit = name == "control_unit"
        for value, idx in vals[dup].groupby(vals[dup]).groups.items():
            ids = tuple(gdf.loc[idx, "feature_id"].astype(str))
            out.append(
                Finding(
                    "duplicate_code" if is_unit else "duplicate_id",
                    "error" if is_unit else "warning",
                    name,
                    ids,
                    f"{_label(name)}编码 {value} 重复 {len(ids)} 次（要素 {format_rows(list(ids))}）；编码应唯一，请核对并改正。",
                    f"{name} code {value} occurs {len(ids)} times (features {format_rows(list(ids))}); codes must be unique",
                )
            )
    return out


def _check_codes(z: Zoning) -> list[Finding]:
    if "control_unit" not in z:
        return []
    units = z["control_unit"]
    out: list[Finding] = []
    codes = units["code"].astype("string")
    parts = codes.str.extract(CODE_PATTERN)
    boundary_codes = set()
    if "code" in z.boundary:
        boundary_codes = {str(c) for c in z.boundary["code"].dropna().astype(str) if re.fullmatch(r"\d{6}", str(c))}
    for i in range(len(units)):
        fid = str(units["feature_id"].iloc[i])
        code = codes.iloc[i]
        cat = units["category"].iloc[i]
        if pd.isna(code):
            out.append(
                Finding(
                    "code_malformed",
                    "error",
                    "control_unit",
                    (fid,),
                    f"环境管控单元 {fid} 缺少单元编码（应为 ZH + 6 位行政区划代码 + 类别码 1/2/3 + 4 位序号）。",
                    f"control unit {fid} has no code (ZH + 6-digit admin code + 1/2/3 + 4-digit serial)",
                )
            )
            continue
        if pd.isna(parts.iloc[i, 0]):
            out.append(
                Finding(
                    "code_malformed",
                    "error",
                    "control_unit",
                    (fid,),
                    f"单元编码 {code} 格式不符：应为 ZH + 6 位行政区划代码 + 类别码（1 优先/2 重点/3 一般）+ 4 位序号，如 ZH44188210001。",
                    f"unit code {code} is malformed: expected ZH + 6-digit admin code + 1/2/3 + 4-digit serial",
                )
            )
            continue
        digit = parts.iloc[i, 1]
        if CATEGORY_DIGIT.get(cat) != digit:
            out.append(
                Finding(
                    "code_category_mismatch",
                    "error",
                    "control_unit",
                    (fid,),
                    f"单元编码 {code} 的类别码为 {digit}，但单元类别是{CATEGORY_ZH.get(cat, cat)}（应为 {CATEGORY_DIGIT.get(cat)}）；请核对编码或类别。",
                    f"unit code {code} carries category digit {digit} but the unit is {cat} "
                    f"(digit {CATEGORY_DIGIT.get(cat)}); fix the code or the category",
                )
            )
        if boundary_codes and parts.iloc[i, 0] not in boundary_codes:
            out.append(
                Finding(
                    "code_admin_mismatch",
                    "warning",
                    "control_unit",
                    (fid,),
                    f"单元编码 {code} 的行政区划代码 {parts.iloc[i, 0]} 与行政区代码（{', '.join(sorted(boundary_codes))}）不一致。",
                    f"unit code {code}: admin code {parts.iloc[i, 0]} differs from the boundary's "
                    f"({', '.join(sorted(boundary_codes))})",
                )
            )
    return out


class _Noise:
    """Counts sliver parts ignored by every check, for one info finding."""

    def __init__(self, crs: CRS, tol: float, width: float) -> None:
        self.crs, self.tol, self.width = crs, tol, width
        self.count = 0
        self.m2 = 0.0

    def filter(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kept, m2, n, noise_m2 = significant_parts(geoms, self.crs, self.tol, self.width)
        self.count += n
        self.m2 += noise_m2
        return kept, m2


def _check_tiling(z: Zoning, boundary: shapely.Geometry, noise: _Noise) -> list[Finding]:
    if "control_unit" not in z:
        return [
            Finding(
                "no_control_units",
                "info",
                "control_unit",
                (),
                "分区数据中没有环境管控单元图层，未检查单元覆盖。",
                "no control_unit layer: unit tiling not checked",
            )
        ]
    units = z["control_unit"]
    g = _arr(units)
    ids = units["feature_id"].astype(str).to_numpy()
    out: list[Finding] = []
    # Gaps: parts of the county no unit covers, one finding per separate piece.
    gap = shapely.difference(boundary, dissolve(g))
    kept, _ = noise.filter(np.array([gap], dtype=object))
    pieces = shapely.get_parts(kept)
    if len(pieces):
        m2 = ellipsoidal_area(pieces, z.crs)
        for piece, a in zip(pieces, m2, strict=True):
            x, y = piece.representative_point().coords[0]
            out.append(
                Finding(
                    "unit_gap",
                    "error",
                    "control_unit",
                    (),
                    f"环境管控单元之间有空隙 {a:,.1f} m²（约在 x={x:.0f}, y={y:.0f}）：三线一单管控单元应覆盖全域。",
                    f"gap of {a:,.1f} m² between control units (near x={x:.0f}, y={y:.0f}): units must tile the county",
                    float(a),
                    piece,
                )
            )
    # Overlaps: every intersecting pair once (i < j), measured in one vectorised pass.
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    sel = i < j
    i, j = i[sel], j[sel]
    if len(i):
        inter, m2 = noise.filter(shapely.intersection(g[i], g[j]))
        for a_i, b_i, geom, a in zip(i, j, inter, m2, strict=True):
            if a <= 0:
                continue
            out.append(
                Finding(
                    "unit_overlap",
                    "error",
                    "control_unit",
                    (ids[a_i], ids[b_i]),
                    f"环境管控单元 {ids[a_i]} 与 {ids[b_i]} 重叠 {a:,.1f} m²：单元之间不应重叠。",
                    f"control units {ids[a_i]} and {ids[b_i]} overlap by {a:,.1f} m²; units must not overlap",
                    float(a),
                    geom,
                )
            )
    return out


def _check_core(z: Zoning, noise: _Noise) -> list[Finding]:
    if "protected_area" not in z:
        return []
    pa = z["protected_area"]
    core = pa[pa["zone"] == "core"]
    if not len(core):
        return []
    red = dissolve(_arr(z["redline"])) if "redline" in z else shapely.Polygon()
    outside, m2 = noise.filter(shapely.difference(_arr(core), red))
    out = []
    for fid, name, geom, a in zip(core["feature_id"].astype(str), core["name"], outside, m2, strict=True):
        if a > 0:
            label = fid if pd.isna(name) else name
            out.append(
                Finding(
                    "core_outside_redline",
                    "error",
                    "protected_area",
                    (fid,),
                    f"自然保护地核心保护区 {label} 有 {a:,.1f} m² 在生态保护红线外；核心保护区应全部划入红线。",
                    f"core zone {label} has {a:,.1f} m² outside the red line; core zones belong inside it",
                    float(a),
                    geom,
                )
            )
    return out


def _check_outside(z: Zoning, boundary: shapely.Geometry, noise: _Noise) -> list[Finding]:
    out: list[Finding] = []
    shapely.prepare(boundary)
    for name, gdf in z.layers.items():
        if name == "boundary" or not len(gdf):
            continue
        g = _arr(gdf)
        ids = gdf["feature_id"].astype(str).to_numpy()
        hits = shapely.intersects(boundary, g)
        away = ~hits
        if away.any():
            out.append(
                Finding(
                    "outside_boundary",
                    "error",
                    name,
                    tuple(ids[away]),
                    f"{_label(name)}有 {int(away.sum())} 个要素完全在行政区外：{format_rows(list(ids[away]))}；请核对坐标系或范围。",
                    f"{int(away.sum())} {name} features lie wholly outside the boundary: {format_rows(list(ids[away]))}; "
                    "check their CRS or extent",
                )
            )
        poly = hits & np.isin(shapely.get_type_id(g), [3, 6])
        if not poly.any():
            continue
        # Only features poking out need the (costlier) difference.
        poke = poly & ~shapely.contains_properly(boundary, g)
        if not poke.any():
            continue
        beyond, m2 = noise.filter(shapely.difference(g[poke], boundary))
        for fid, geom, a in zip(ids[poke], beyond, m2, strict=True):
            if a > 0:
                out.append(
                    Finding(
                        "partly_outside_boundary",
                        "warning",
                        name,
                        (fid,),
                        f"{_label(name)} {fid} 有 {a:,.1f} m² 超出行政区边界；请按边界裁剪或核对。",
                        f"{name} {fid} extends {a:,.1f} m² beyond the boundary; clip it or check it",
                        float(a),
                        geom,
                    )
                )
    return out


def _conflict_pairs(z: Zoning, noise: _Noise) -> list[Finding]:
    sources = [(n, n) for n in ("farmland", "urban_boundary") if n in z]
    sources += [(n, "mining") for n in z.layers if clean_key(n) in MINING_LAYER_NAMES and len(z[n])]
    out: list[Finding] = []
    for src_layer, short in sources:
        a = z[src_layer]
        ag = _arr(a)
        aid = a["feature_id"].astype(str).to_numpy()
        for tgt in ("redline", "protected_area"):
            if tgt not in z:
                continue
            b = z[tgt]
            bg = _arr(b)
            bid = b["feature_id"].astype(str).to_numpy()
            i, j = shapely.STRtree(bg).query(ag, predicate="intersects")
            if not len(i):
                continue
            inter, m2 = noise.filter(shapely.intersection(ag[i], bg[j]))
            sev: Severity = "warning" if short == "farmland" else "error"
            for ai, bj, geom, area in zip(i, j, inter, m2, strict=True):
                if area <= 0:
                    continue
                out.append(
                    Finding(
                        f"{short}_in_{tgt}",
                        sev,
                        src_layer,
                        (aid[ai], bid[bj]),
                        f"{_label(src_layer)} {aid[ai]} 与{_label(tgt)} {bid[bj]} 重叠 {area / 1e6:,.4f} km²；"
                        "三条控制线不应交叉重叠，请按规定调整。",
                        f"{src_layer} {aid[ai]} overlaps {tgt} {bid[bj]} by {area / 1e6:,.4f} km²; "
                        "the control lines must not overlap",
                        float(area),
                        geom,
                    )
                )
    return out


def _check_valid(z: Zoning) -> list[Finding]:
    out = []
    for name, gdf in z.layers.items():
        g = _arr(gdf)
        bad = shapely.is_empty(g) | ~shapely.is_valid(g)
        if bad.any():
            ids = gdf["feature_id"].astype(str).to_numpy()[bad]
            out.append(
                Finding(
                    "invalid_geometry",
                    "error",
                    name,
                    tuple(ids),
                    f"{_label(name)}有无效或空几何：{format_rows(list(ids))}。",
                    f"{name} has invalid or empty geometries: {format_rows(list(ids))}",
                )
            )
    return out


def _check_lists(z: Zoning, lists: Sequence[str | os.PathLike[str]]) -> list[Finding]:
    """Join published access lists with the unit polygons by code (issue 29)."""
    from spatial.list_rules import list_coverage, manifest_lists
    from spatial.lists import read_list

    paths = list(lists) or [e["path"] for e in manifest_lists(z)]
    units = z["control_unit"].drop(columns="geometry") if "control_unit" in z.layers else None
    out: list[Finding] = []
    for p in paths:
        ul = read_list(p)
        cov = list_coverage(ul, units)
        name = Path(p).name
        if cov["no_polygon"]:
            out.append(
                Finding(
                    "list_code_no_polygon", "warning", "control_unit", tuple(cov["no_polygon"]),
                    f"准入清单 {name} 中 {len(cov['no_polygon'])} 个单元编码在环境管控单元图层中没有图斑：{'、'.join(cov['no_polygon'][:10])}。请核对编码或补充图斑。",
                    f"access list {name}: {len(cov['no_polygon'])} unit codes have no polygon; check the codes or add the polygons",
                )
            )  # fmt: skip
        if cov["no_row"]:
            out.append(
                Finding(
                    "unit_no_list_row", "warning", "control_unit", tuple(cov["no_row"]),
                    f"{len(cov['no_row'])} 个环境管控单元在准入清单 {name} 中没有对应行（只适用总体管控要求）：{'、'.join(cov['no_row'][:10])}。",
                    f"{len(cov['no_row'])} control units have no row in access list {name} (only its overall requirements apply)",
                )
            )  # fmt: skip
        for region in cov["no_region"]:
            out.append(
                Finding(
                    "list_region_unmatched", "warning", "control_unit", (),
                    f"准入清单 {name} 的“{region}总体管控要求”未匹配到任何单元（单元名称不含“{region}”），该行不适用于任何单元。",
                    f"access list {name}: the overall requirements of {region} match no unit name",
                )
            )  # fmt: skip
        for prob in ul.problems:
            out.append(
                Finding(
                    "list_row_unplaced", "warning", "control_unit", (),
                    f"准入清单 {name} 工作表“{prob['sheet']}”第 {prob['row'] or '?'} 行无法定位：{prob['why']}",
                    f"access list {name} sheet {prob['sheet']} row {prob['row']}: cannot be placed",
                )
            )  # fmt: skip
    return out


def validate_zoning(
    zoning: Zoning | str | os.PathLike[str] | None = None,
    *,
    tolerance_m2: float = 1.0,
    sliver_width_m: float = SLIVER_WIDTH_M,
    lists: Sequence[str | os.PathLike[str]] = (),
) -> ValidationReport:
    """Check a zoning package's integrity.

    Parameters
    ----------
    zoning : Zoning or path-like or None
        A loaded package, a path to one (loader warnings become findings), or
        None for the bundled demo.
    tolerance_m2 : float, default 1.0
        Gaps, overlaps, overhangs and conflicts up to this area (m²,
        ellipsoidal) are ignored as digitising noise.
    sliver_width_m : float, default 0.1
        Pieces thinner than this on average (2·area/perimeter) are ignored
        too: reprojecting shared edges between Gauss-Kruger zones leaves
        millimetre-wide lenses of several m².  Ignored pieces are counted in
        one ``sliver_noise`` info finding.
    lists : sequence of path-like, optional
        Published access lists to join with the control units by code (default:
        the lists the manifest names under ``lists:``).

    Returns
    -------
    ValidationReport
        Findings; ``report.exit_code`` is 0 when clean, 1 otherwise.

    Raises
    ------
    EcozoneError
        When the package cannot be loaded at all (the CLI exits 2).
    """
    caught: list[warnings.WarningMessage] = []
    if not isinstance(zoning, Zoning):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            zoning = load_zoning(zoning)
    z = zoning
    tol = float(tolerance_m2)
    boundary = dissolve(_arr(z.boundary))
    findings = _warning_findings(list(caught), list(z.layers))
    noise = _Noise(z.crs, tol, float(sliver_width_m))
    findings += _check_standard(z)
    findings += _check_empty(z)
    findings += _check_valid(z)
    findings += _check_tiling(z, boundary, noise)
    findings += _check_duplicates(z)
    findings += _check_codes(z)
    findings += _check_core(z, noise)
    findings += _check_outside(z, boundary, noise)
    findings += _conflict_pairs(z, noise)
    findings += _check_lists(z, lists)
    if noise.count:
        findings.append(
            Finding(
                "sliver_noise",
                "info",
                "",
                (),
                f"忽略了 {noise.count} 块碎片（合计 {noise.m2:,.2f} m²；面积 ≤ {tol:g} m² 或平均宽度 < {sliver_width_m:g} m，"
                "多为坐标转换或重复数字化所致）。",
                f"ignored {noise.count} sliver pieces ({noise.m2:,.2f} m² in all; area <= {tol:g} m² or mean width "
                f"< {sliver_width_m:g} m, typically from reprojection or re-digitising)",
                noise.m2,
            )
        )
    return ValidationReport(
        findings=findings, crs=z.crs, path=None if z.path is None else str(z.path), tolerance_m2=tol
    )
