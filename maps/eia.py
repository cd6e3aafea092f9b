"""The report's content in the EIA 三线一单符合性分析 format, independent of the output format.

Per site, four tables with the columns reviewers expect
(序号 | 管控要求（清单内容） | 本项目情况 | 符合性):

1. 生态保护红线 (with 自然保护地, 饮用水水源保护区 and 一般生态空间);
2. 环境质量底线和资源利用上线: each touched control unit's 污染物排放管控 and
   资源开发效率要求, and the element zones when the zoning has them;
3. 生态环境准入清单: one row per clause of the unit's list, plus its 禁止类 and
   every unit-level finding;
4. 其他空间管控要求: 永久基本农田, 城镇开发边界, 生态廊道 and any other layer.

本项目情况 is prefilled from geometry (:mod:`spatial.facts`); cells a person must
complete carry :data:`TO_FILL`.  符合性 is computed where geometry and the
project type decide it and :data:`PENDING` otherwise.  Each table ends with a
conclusion and each site with a 综上 paragraph naming the plans with their 文号.
HTML, DOCX and XLSX all render this one model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY, report_layers, section_layers
from layers.base import REPORT_SECTIONS
from maps import style as st
from spatial.facts import SiteFacts, area_zh, distance_zh, site_facts
from spatial.output import user_columns
from spatial.project_types import VERDICT_EIA
from spatial.zoning import DEMO_STAMP

__all__ = [
    "EIA_WORDS",
    "TO_FILL",
    "PENDING",
    "Row",
    "Table",
    "SiteSection",
    "ReportModel",
    "build_model",
    "eia_word",
    "date_zh",
    "datetime_zh",
    "plain_number",
]

#: Internal verdict -> the conclusion word an EIA report uses.
EIA_WORDS: dict[str, str] = dict(VERDICT_EIA)
#: Marks a cell a person must complete.
TO_FILL = "【待填写】"
PENDING = "待核实"
_RANK = {"符合": 0, "待核实": 1, "有条件符合": 2, "不符合": 3}

#: Sections of the site analysis, with the layers each reports on.
SECTION_LAYERS: dict[str, tuple[str, ...]] = {k: section_layers(k) for k in REPORT_SECTIONS}  # from each LayerSpec.report
SECTION_TITLES = {
    "redline": "生态保护红线",
    "quality": "环境质量底线和资源利用上线",
    "list": "生态环境准入清单",
    "other": "其他空间管控要求",
}
#: Layers a site should not be in: listed as 涉及 in the summary (inside the development boundary is not a problem).
_CONSTRAINT_LAYERS = report_layers("constraint")
#: Layers whose findings are listed as 涉及 <layer>管控范围 (their rules reach beyond the features).
_CONTROL_ZONE_LAYERS = report_layers("control_zone")
#: Layers without a row of their own (context only): standard kinds without a section, and the extra area layers.
_NO_ROW = frozenset({"town", "village", "county"} | {n for n, s in REGISTRY.items() if s.report is None or s.report.section is None})
_HINTS = {
    "emission_control": "项目主要污染物种类、排放量及治理措施",
    "resource_efficiency": "项目用水、用能及用地指标",
    "risk_prevention": "项目涉及的环境风险物质及防控措施",
    "spatial_layout": "项目与该条款的关系",
    "requirements": "项目与该条款的关系",
}


# --------------------------------------------------------------------------- small helpers


def _blank(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _s(v: Any) -> str:
    if _blank(v):
        return ""
    return plain_number(v) if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) else str(v).strip()


def plain_number(v: Any, digits: int = 2) -> str:
    """Print a number as a planner writes it: integers as integers, else up to ``digits`` decimals.

    Parameters
    ----------
    v : Any
        A number.
    digits : int, default 2
        Decimals kept for non-integers (trailing zeros dropped).

    Returns
    -------
    str
        E.g. ``28``, ``0.52``.
    """
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return ""
    if f.is_integer():
        return str(int(f))
    return f"{f:.{digits}f}".rstrip("0").rstrip(".")


def eia_word(verdict: Any) -> str:
    """EIA conclusion word of an internal verdict (符合/不符合/有条件符合/待核实).

    Parameters
    ----------
    verdict : str
        ``prohibited``, ``restricted``, ``notice`` or ``compatible``.

    Returns
    -------
    str
        The word; 待核实 for anything unknown (never a silent 符合).
    """
    return EIA_WORDS.get(str(verdict), PENDING)


def _worst(words: Sequence[str]) -> str:
    ws = [w for w in words if w in _RANK]
    return max(ws, key=_RANK.__getitem__) if ws else "符合"


def date_zh(when: datetime) -> str:
    """Write a date in Chinese, e.g. ``2026年11月29日``.

    Parameters
    ----------
    when : datetime
        The moment.

    Returns
    -------
    str
        The date.
    """
    return f"{when.year}年{when.month}月{when.day}日"


def datetime_zh(text: Any) -> str:
    """Write an ISO timestamp as local Chinese date and time, e.g. ``2026年11月29日 14:29``.

    Parameters
    ----------
    text : str
        ISO 8601 timestamp (with offset).

    Returns
    -------
    str
        Local date and time ('' when unparsable).
    """
    try:
        when = datetime.fromisoformat(str(text)).astimezone()
    except ValueError:
        return ""
    return f"{date_zh(when)} {when:%H:%M}"


def _layer_zh(name: str) -> str:
    return st.layer_label(name, REGISTRY.get(name))[0]


# --------------------------------------------------------------------------- model


@dataclass
class Row:
    """One row of a 三线一单 table.

    Attributes
    ----------
    requirement : str
        管控要求（清单内容）, with its basis.
    situation : str
        本项目情况 (facts, or :data:`TO_FILL`).
    verdict : str
        符合 / 不符合 / 有条件符合 / 待核实, or ``—`` when not applicable.
    rules : str
        Rule codes behind the row (for the rule column and the XLSX).
    basis : str
        The requirement's source (title, 文号, article or plan line), printed small under it.
    geometric : bool
        True when geometry decides the row (the situation states a measured fact).
    """

    requirement: str
    situation: str
    verdict: str
    rules: str = ""
    geometric: bool = False
    basis: str = ""


@dataclass
class Table:
    """One section table and its conclusion."""

    key: str
    title: str
    rows: list[Row]
    conclusion: str


@dataclass
class SiteSection:
    """Everything the report says about one site."""

    n: int
    site_id: str
    name: str
    verdict: str
    verdict_zh: str
    info: list[tuple[str, str]]
    tables: list[Table]
    conclusion: str
    figure: int | None = None


@dataclass
class ReportModel:
    """The whole report, format-independent."""

    title: str
    county: str
    project: str
    date: str
    run_at: str
    summary: pd.DataFrame
    counts: dict[str, int]
    sites: list[SiteSection]
    figures: list[tuple[int, str, str]] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    hits: pd.DataFrame = field(default_factory=pd.DataFrame)
    layer_facts: pd.DataFrame = field(default_factory=pd.DataFrame)
    audit: list[tuple[str, str]] = field(default_factory=list)
    audit_files: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicators: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coverage: list[str] = field(default_factory=list)
    stamp: str = ""


def _county(zoning: Any) -> tuple[str, str]:
    b = zoning.layers.get("boundary") if zoning is not None else None
    if b is None or not len(b):
        return "", ""
    name = _s(b["name"].iloc[0]) if "name" in b else ""
    code = _s(b["code"].iloc[0]) if "code" in b else ""
    return name, code


def scheme_citations(zoning: Any) -> list[str]:
    """List the 三线一单 schemes whose jurisdiction holds the zoning package, with 文号.

    Taken from the sources registry (:mod:`spatial.sources`): a scheme is
    named only when the package's adcode lies inside its jurisdiction.

    Parameters
    ----------
    zoning : Zoning
        The package (its boundary ``code`` is the adcode).

    Returns
    -------
    list of str
        E.g. ``《广东省人民政府关于印发广东省“三线一单”生态环境分区管控方案的通知》（粤府〔2020〕71号）``.
    """
    from spatial.jurisdiction import zoning_adcode
    from spatial.sources import applies_in, default_registry

    adcode, _ = zoning_adcode(zoning)
    sources = default_registry().sources.values()
    return [s.citation for s in sources if "三线一单" in s.title and s.jurisdiction is not None and applies_in(s.jurisdiction, adcode)]


def _figure_ref(n: int | None) -> str:
    return f"（见附图{n}）" if n else ""


def _feature_text(name: str, code: str) -> str:
    names, codes = name.split("、"), code.split("、")
    parts = []
    for nm, cd in zip(names, codes, strict=False):
        parts.append(f"“{nm}”（{cd}）" if cd and cd != nm else f"“{nm}”")
    return "、".join(parts)


def _situation(f: Mapping[str, Any] | None, label: str, dim: int, fig: int | None) -> str:
    """本项目情况 of a geometric row: inside with the overlap, or the nearest feature's distance and direction."""
    if f is None:
        return f"分区数据中无{label}图层，未核查。{TO_FILL}"
    if f["inside"]:
        text = f"项目位于{label}{_feature_text(f['inside_names'], f['inside_codes'])}内"
        if dim == 2 and f["overlap_m2"] > 0:
            text += f"，重叠面积{area_zh(f['overlap_m2'])}"
            if np.isfinite(f["overlap_pct"]):
                text += f"，占项目用地{plain_number(round(f['overlap_pct'], 1), 1)}%"
        elif dim == 1 and f["overlap_length_m"] > 0:
            text += f"，穿越长度约{plain_number(round(f['overlap_length_m']))} m"
        elif dim == 0 and np.isfinite(f.get("edge_distance_m", np.nan)):
            text += f"，距其边界{distance_zh(f['edge_distance_m'])}"
        return text + _figure_ref(fig)
    if not f["nearest_name"]:
        return f"项目不涉及{label}。"
    where = _direction(f["direction_zh"])
    return (
        f"项目不在{label}内，最近的{_feature_text(f['nearest_name'], f['nearest_code'])}位于项目{where}"
        f"{distance_zh(f['distance_m'])}{_figure_ref(fig)}"
    )


def _corridor_situation(f: Mapping[str, Any] | None, hits: pd.DataFrame, fig: int | None) -> str:
    if f is None:
        return f"分区数据中无生态廊道图层，未核查。{TO_FILL}"
    where = _direction(f["direction_zh"])
    base = f"距项目最近的廊道为{_feature_text(f['nearest_name'], f['nearest_code'])}"
    if f["inside"]:
        base = f"项目与{_feature_text(f['inside_names'], f['inside_codes'])}相交"
    elif f["nearest_name"]:
        base += f"，位于项目{where}{distance_zh(f['distance_m'])}"
    if len(hits):
        names = "、".join(dict.fromkeys(hits["feature_name"].astype(str)))
        base += f"；项目位于{names}的管控范围内"
    else:
        base += "，项目不在其管控范围内"
    return base + _figure_ref(fig)


def _direction(d: str) -> str:
    """``东北方向``; a cardinal direction reads ``正南方向``."""
    if not d:
        return ""
    return f"{'正' if len(d) == 1 else ''}{d}方向"


def _requirement(rules: Sequence[Any], hits: pd.DataFrame, layer: str, ptype: str) -> tuple[str, str, str]:
    """管控要求 text, its basis and the rule codes for one layer row."""
    if len(hits):
        pairs = list(dict.fromkeys(zip(hits["message_zh"].astype(str), hits["basis"].astype(str), strict=True)))
        codes = "、".join(dict.fromkeys(hits["rule_id"].astype(str)))
    else:
        applicable = [r for r in rules if layer in r.layers and r.type_verdicts.get(ptype) is not None]
        chosen = applicable or [r for r in rules if layer in r.layers]
        pairs = list(dict.fromkeys((r.message_zh, r.basis) for r in chosen[:1]))
        codes = "、".join(r.id for r in chosen[:1])
    if not pairs:
        return f"{_layer_zh(layer)}：规则目录未设定管控要求。", "", ""
    text = "；".join(m.rstrip("。") for m, _ in pairs) + "。"
    basis = "；".join(dict.fromkeys(b for _, b in pairs if b))
    return text, basis, codes


def _clauses(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[。；;])|\n+|(?=\(\d+\)|（\d+）)", text or "") if p and p.strip()]
    return [p for p in parts if len(p.strip("。；; ")) > 1]


def _conclusion(title: str, rows: list[Row]) -> str:
    title = title if title.endswith("要求") else f"{title}管控要求"
    word = _worst([r.verdict for r in rows])
    flagged = [r for r in rows if r.verdict in ("不符合", "有条件符合")]
    if word == "不符合":
        return f"综合上表，项目存在不符合{title}的情形，须调整选址或依法调整后方可建设。"
    if word == "有条件符合":
        return f"综合上表，项目须依法履行审批程序并落实上表所列管控条件（{len(flagged)}项），对照{title}，结论为有条件符合。"
    if word == "待核实":
        n = sum(r.verdict == PENDING for r in rows)
        return f"综合上表，项目空间位置不违反{title}中的禁止性规定，其余{n}项须由编制单位结合项目情况核实填写（待核实）。"
    return f"综合上表，项目符合{title}。"


def _site_hits(hits: pd.DataFrame, sid: str) -> pd.DataFrame:
    if hits is None or not len(hits):
        return pd.DataFrame(columns=["rule_id", "layer", "verdict", "message_zh", "basis", "feature_id", "feature_name"])
    return hits[hits["site_id"].astype(str) == sid]


def _layer_rows(
    layers: Sequence[str], zoning: Any, facts: SiteFacts, sid: str, dim: int, hits: pd.DataFrame, rules: Sequence[Any],
    ptype: str, figs: Mapping[str, int],
) -> list[Row]:  # fmt: skip
    rows = []
    clear: list[str] = []  # layers the site is outside of and whose rules do not concern its type: one row for all
    for layer in layers:
        if layer not in zoning.layers or not len(zoning.layers[layer]):
            continue
        lh = hits[hits["layer"].astype(str) == layer]
        f = facts.get(sid, layer)
        label = _layer_zh(layer)
        concerned = any(layer in r.layers and r.type_verdicts.get(ptype) is not None for r in rules)
        if not len(lh) and not concerned and f is not None and not f["inside"] and layer != "corridor":
            clear.append(_situation(f, label, dim, None).removeprefix("项目"))
            continue
        req, basis, codes = _requirement(rules, lh, layer, ptype)
        if layer == "corridor":
            situation = _corridor_situation(f, lh, figs.get(layer))
        else:
            situation = _situation(f, label, dim, figs.get(layer))
        verdict = _worst([eia_word(v) for v in lh["verdict"]]) if len(lh) else "符合"
        rows.append(Row(req, situation, verdict, codes, geometric=True, basis=basis))
    if clear:
        rows.append(Row("其他分区：规则目录未对本类项目设定管控要求。", "项目" + "；".join(clear) + "。", "符合", geometric=True))
    return rows


def _unit_rows(units: pd.DataFrame, keys: Sequence[str], facts: SiteFacts, sid: str, dim: int, fig: int | None) -> list[Row]:
    """Rows for the quality/resource dimensions of every touched unit (person completes the situation)."""
    from layers.control_unit import CATEGORY_ZH, DIMENSIONS

    rows = []
    for u in units.to_dict("records"):
        where = f"项目位于“{_s(u.get('name'))}”（{_s(u.get('code'))}，{CATEGORY_ZH.get(_s(u.get('category')), '环境管控单元')}）"
        m2 = u.get("overlap_m2")
        if dim == 2 and not _blank(m2) and float(m2) > 0:
            where += f"，重叠面积{area_zh(float(m2))}"
        for k, key in enumerate(keys):
            if k:
                where = "同上"  # the unit is named once per unit
            text = _s(u.get(key))
            label = DIMENSIONS.get(key, "综合准入要求")
            if not text:
                rows.append(Row(f"{label}：本单元未提供该维度的管控要求。", f"{where}。", "—"))
                continue
            rows.append(
                Row(
                    f"{label}：{text}",
                    f"{where}{_figure_ref(fig) if not k else ''}。{TO_FILL}{_HINTS[key]}",
                    PENDING,
                    geometric=False,
                )
            )
    return rows


def _ban_tokens(prohibited: str) -> list[str]:
    return [t for t in re.split(r"[;；,，、/\s]+", prohibited or "") if t]


def _list_rows(
    units: pd.DataFrame, hits: pd.DataFrame, ptype: str, ptype_zh: str, banned_rules: set[str], fig: int | None
) -> list[Row]:
    """One row per clause of each touched unit's list, its 禁止类, and every unit-level finding."""
    rows: list[Row] = []
    uh = hits[hits["layer"].astype(str) == "control_unit"]
    for u in units.to_dict("records"):
        code, name = _s(u.get("code")), _s(u.get("name"))
        mine = uh[(uh["feature_id"].astype(str) == code) | (uh["feature_name"].astype(str) == name)]
        ban_hit = mine[mine["rule_id"].astype(str).isin(banned_rules)]
        tokens = _ban_tokens(_s(u.get("prohibited")))
        head = f"“{name}”（{code}）"
        if tokens:
            if len(ban_hit):
                sit = f"项目类型为{ptype_zh}，列入{head}禁止准入类{_figure_ref(fig)}"
                verdict = "不符合"
            else:
                sit = f"项目位于{head}，项目类型为{ptype_zh}，不属于本单元禁止准入类{_figure_ref(fig)}"
                verdict = "符合"
            rows.append(
                Row(
                    f"禁止准入类：{'、'.join(tokens)}。",
                    sit,
                    verdict,
                    "、".join(dict.fromkeys(ban_hit["rule_id"].astype(str))),
                    True,
                )
            )
        for key, label in (
            ("requirements", "综合准入要求"),
            ("spatial_layout", "空间布局约束"),
            ("risk_prevention", "环境风险防控"),
        ):
            clause = _s(u.get(key))
            if not clause:
                continue
            banned_clause = (
                next((c for c in _clauses(clause) if "禁止" in c and any(t in c for t in tokens)), None) if len(ban_hit) else None
            )
            if banned_clause:
                rows.append(
                    Row(f"{label}：{clause}", f"项目类型为{ptype_zh}，属“{banned_clause.rstrip('。；;')}”所列项目", "不符合")
                )
            else:
                rows.append(Row(f"{label}：{clause}", f"{TO_FILL}{_HINTS[key]}", PENDING))
        for h in mine[~mine["rule_id"].astype(str).isin(banned_rules)].to_dict("records"):
            cond = _s(h.get("conditions_zh"))  # an access-list clause's qualifiers (新建/入园/范围/规模)
            rows.append(
                Row(
                    _s(h.get("message_zh")),
                    f"项目位于{head}内，项目类型为{ptype_zh}{_figure_ref(fig)}" + (f"；条件：{cond}" if cond else ""),
                    eia_word(h.get("verdict")),
                    _s(h.get("rule_id")),
                    True,
                    _s(h.get("basis")),
                )
            )
    return rows


def _site_units(result: Any, sid: str) -> pd.DataFrame:
    units = getattr(result, "units", None)
    if units is None or not len(units):
        return pd.DataFrame(columns=["site_id", "code", "name"])
    return units[units["site_id"].astype(str) == sid]


def _info_rows(
    row: Mapping[str, Any], coords: Mapping[str, Any], facts: SiteFacts, sid: str, dim: int, extra_cols: Sequence[str]
) -> list[tuple[str, str]]:
    ptype_zh = st.project_type_zh(_s(row.get("project_type")))
    raw = _s(row.get("project_type_raw"))
    info = [("项目类型", f"{raw}（按“{ptype_zh}”类判定）" if raw and raw != ptype_zh else ptype_zh)]
    if dim == 2:
        info.append(("用地面积", area_zh(float(row.get("area_m2") or 0))))
    elif dim == 1:
        info.append(("线路长度", f"约{plain_number(round(float(row.get('length_m') or 0)))} m"))
    else:
        info.append(("用地形式", "点位（未提供用地范围）"))
    info.append(("中心点坐标", f"{coords.get('centroid_dms', '')}（CGCS2000）"))
    verts = coords.get("vertices_dms") or []
    if verts:
        info.append(("拐点坐标", "；".join(f"J{i + 1} {x}，{y}" for i, (x, y) in enumerate(verts))))
    if coords.get("gk_zone_zh"):
        info.append(("高斯-克吕格坐标", f"X={coords['gk_x']:,.2f} m，Y={coords['gk_y']:,.2f} m（{coords['gk_zone_zh']}）"))
    town = facts.get(sid, "town")
    if town is not None and town["inside"]:
        info.append(("所在乡镇", town["inside_names"]))
    unit = facts.get(sid, "control_unit")
    if unit is not None and unit["inside"]:
        info.append(
            ("所在环境管控单元", _feature_text(unit["inside_names"], unit["inside_codes"]).replace("“", "").replace("”", ""))
        )
    attrs = [f"{c}：{_s(row.get(c))}" for c in extra_cols if _s(row.get(c))]
    if attrs:  # the planner's own columns (建设单位, 投资 …), unchanged
        info.append(("项目信息", "；".join(attrs)))
    return info


def _site_table_titles(tables: list[Table]) -> str:
    return "；".join(f"{t.title}：{_worst([r.verdict for r in t.rows])}" for t in tables if t.rows)


def build_model(
    result: Any,
    indicators: Any = None,
    *,
    title: str | None = None,
    project: str | None = None,
    figure_numbers: Mapping[str, int] | None = None,
    site_figures: Mapping[str, int] | None = None,
    figures: Sequence[tuple[int, str, str]] = (),
    facts: SiteFacts | None = None,
    now: datetime | None = None,
) -> ReportModel:
    """Build the report model from a screening result.

    Parameters
    ----------
    result : ScreeningResult
        Screening output (``sites``, ``hits``, ``units``, ``zoning``, ``rules``, ``audit``).
    indicators : DataFrame or IndicatorTable, optional
        Indicator rows for an extra section.
    title : str, optional
        Report title (default: county + project + 生态环境分区管控符合性分析报告).
    project : str, optional
        Project name for the title (default: the site's name for one site, else 建设项目选址).
    figure_numbers : mapping, optional
        Layer -> 附图 number of its group map.
    site_figures : mapping, optional
        Site id -> 附图 number of its inset.
    figures : sequence of (int, str, str)
        (number, caption, file name) of every 附图, for the list of figures.
    facts : SiteFacts, optional
        Precomputed facts.
    now : datetime, optional
        Report date (default: now, local time).

    Returns
    -------
    ReportModel
        The content every renderer draws.
    """
    now = now or datetime.now().astimezone()
    sites = result.sites
    zoning = result.zoning
    facts = facts or site_facts(result)
    figure_numbers = dict(figure_numbers or {})
    site_figures = dict(site_figures or {})
    county, _ = _county(zoning)
    ids = sites["site_id"].astype(str).tolist()
    names = [_s(n) or i for n, i in zip(sites["name"] if "name" in sites else ids, ids, strict=True)]
    if project is None:
        project = names[0] if len(ids) == 1 else "建设项目选址"
    title = title or f"{county}{project}生态环境分区管控符合性分析报告"
    rules = list(getattr(result, "rules", None) or [])
    banned_rules = {r.id for r in rules if getattr(r, "mode", None) == "unit_prohibited"} or {"CU-BANNED"}
    hits = result.hits if getattr(result, "hits", None) is not None else pd.DataFrame()
    dims = shapely.get_dimensions(np.asarray(sites.geometry.values, dtype=object))
    coords = {r["site_id"]: r for r in facts.coords.to_dict("records")}
    plans = scheme_citations(zoning)
    extra_cols = user_columns(sites)
    other_layers = [n for n in zoning.layers if n not in _NO_ROW and not any(n in v for v in SECTION_LAYERS.values())]
    sections: list[SiteSection] = []
    summary_rows = []
    for i, row in enumerate(sites.drop(columns=sites.geometry.name).to_dict("records")):
        sid, name, dim = ids[i], names[i], int(dims[i])
        ptype = _s(row.get("project_type"))
        ptype_zh = st.project_type_zh(ptype)
        sh = _site_hits(hits, sid)
        units = _site_units(result, sid)
        fig = site_figures.get(sid)
        t1 = _layer_rows(SECTION_LAYERS["redline"], zoning, facts, sid, dim, sh, rules, ptype, figure_numbers)
        t2 = _unit_rows(units, ("emission_control", "resource_efficiency"), facts, sid, dim, figure_numbers.get("control_unit"))
        t2 += _layer_rows(SECTION_LAYERS["quality"], zoning, facts, sid, dim, sh, rules, ptype, figure_numbers)
        t3 = _list_rows(units, sh, ptype, ptype_zh, banned_rules, figure_numbers.get("control_unit"))
        t4 = _layer_rows((*SECTION_LAYERS["other"], *other_layers), zoning, facts, sid, dim, sh, rules, ptype, figure_numbers)
        out_hits = sh[sh["layer"].astype(str) == "boundary"]
        for h in out_hits.to_dict("records"):
            t4.append(
                Row(
                    _s(h.get("message_zh")),
                    f"项目部分位于分区数据范围（{county or '行政区'}）以外，范围外部分未核查。{TO_FILL}",
                    eia_word(h.get("verdict")),
                    _s(h.get("rule_id")),
                    True,
                )
            )
        for h in sh[sh["rule_id"].astype(str).str.startswith(_COVERAGE_PREFIXES)].to_dict("records"):
            # What the package cannot tell (missing layer, zone without loaded rules): 待核实, never 不涉及.
            t4.append(Row(_s(h.get("message_zh")), f"{_s(h.get('feature_name')) + '：' if _s(h.get('feature_name')) else ''}须补充数据或管控要求后核实。{TO_FILL}", PENDING, _s(h.get("rule_id"))))
        if "control_unit" in zoning.layers and not len(units):
            t2.append(
                Row("环境管控单元管控要求。", "项目不在任何环境管控单元内（位于分区数据范围以外）。", PENDING, geometric=True)
            )
        tables = [
            Table(k, SECTION_TITLES[k], rows, _conclusion(SECTION_TITLES[k], rows))
            for k, rows in (("redline", t1), ("quality", t2), ("list", t3), ("other", t4))
            if rows
        ]
        verdict = _s(row.get("verdict"))
        word = _s(row.get("verdict_eia")) or eia_word(verdict)
        sections.append(
            SiteSection(
                n=i + 1,
                site_id=sid,
                name=name,
                verdict=verdict,
                verdict_zh=word,
                info=_info_rows(row, coords.get(sid, {}), facts, sid, dim, extra_cols),
                tables=tables,
                conclusion=_site_conclusion(word, plans, tables, _site_gaps(row, sh)),
                figure=fig,
            )
        )
        involved = [_layer_zh(n) for n in _CONSTRAINT_LAYERS if (f := facts.get(sid, n)) is not None and f["inside"]]
        involved += [
            f"{_layer_zh(n)}管控范围" for n in _CONTROL_ZONE_LAYERS if (sh["layer"].astype(str) == n).any()
        ]
        ub = facts.get(sid, "urban_boundary")
        where = "位于城镇开发边界内" if ub is not None and ub["inside"] else ""
        summary_rows.append(
            {
                "序号": i + 1,
                "地块编号": sid,
                "项目名称": name,
                "项目类型": _s(row.get("project_type_raw")) or ptype_zh,
                "符合性结论": word,
                "涉及情况": "；".join(
                    t
                    for t in (
                        "涉及" + "、".join(involved) if involved else ("" if _site_gaps(row, sh) else "不涉及生态保护红线等空间管控区"),
                        where,
                        _site_gaps(row, sh) and "待核实：" + _site_gaps(row, sh),
                    )
                    if t
                ),
                "分项结论": _site_table_titles(tables),
                "数据覆盖": _s(row.get("coverage_zh")),
            }
        )
    summary = pd.DataFrame(
        summary_rows, columns=["序号", "地块编号", "项目名称", "项目类型", "符合性结论", "涉及情况", "分项结论", "数据覆盖"]
    )
    for c in extra_cols:  # the planner's own columns, unchanged (renamed only on a clash)
        summary[c if c not in summary.columns else f"{c}（原表）"] = sites[c].to_numpy()
    counts = {w: int((summary["符合性结论"] == w).sum()) for w in ("不符合", "有条件符合", "待核实", "符合")}
    run_at = datetime_zh((getattr(result, "audit", {}) or {}).get("run_at", ""))
    audit, files = _audit(getattr(result, "audit", {}) or {})
    return ReportModel(
        title=title,
        county=county,
        project=project,
        date=date_zh(now),
        run_at=run_at,
        summary=summary,
        counts=counts,
        sites=sections,
        figures=list(figures),
        plans=plans,
        hits=_hit_table(hits, dict(zip(ids, names, strict=True))),
        layer_facts=_fact_table(facts, dict(zip(ids, names, strict=True))),
        audit=audit,
        audit_files=files,
        indicators=_indicator_frame(indicators),
        warnings=[_s(w) for w in (getattr(result, "audit", {}) or {}).get("warnings") or [] if _s(w)],
        coverage=_coverage_lines(getattr(result, "audit", {}) or {}),
        stamp=DEMO_STAMP if (getattr(result, "audit", {}) or {}).get("demo") else "",
        notes=_law_notes(getattr(result, "rules", None)),
    )


def _law_notes(rules: Any) -> list[str]:
    """Return the screening date and the sources' 〔待核实〕/〔已被替代〕 notes, once each (a footnote of the report)."""
    if rules is None or getattr(rules, "as_of", None) is None:
        return []
    head = f"筛查日期 {rules.as_of}：各项依据引用当日施行的条文（法典第一千零五十七条 从旧兼从轻）。"
    return [head, *rules.notes]


def _coverage_lines(audit: Mapping[str, Any]) -> list[str]:
    """First-page lines: the package's missing layers (in Chinese) and the run's coverage."""
    cov = audit.get("coverage") or {}
    out = []
    if cov.get("missing_zh"):
        out.append("分区数据缺少以下图层，相关管控无法判断，结论为待核实：" + "、".join(cov["missing_zh"]) + "。")
    if cov.get("line_zh"):
        out.append(str(cov["line_zh"]))
    return out


#: Rule-id prefixes of the coverage findings (spatial.engine.coverage): missing data, zones without loaded rules.
_COVERAGE_PREFIXES = ("COV-", "ZONE-")


def _site_gaps(row: Mapping[str, Any], sh: pd.DataFrame) -> str:
    """Return what the package could not tell for a site ('' when nothing), from its coverage line and hits."""
    cov = _s(row.get("coverage_zh"))
    parts = []
    if cov.startswith("不在分区数据范围内"):
        return "项目不在分区数据范围内，须提供所在地的分区数据"
    if "缺少：" in cov:
        parts.append("缺少" + cov.split("缺少：", 1)[1].split("；", 1)[0])
    if "在分区数据范围外" in cov:
        parts.append("部分" + "在分区数据范围外")
    zones = sh[sh["rule_id"].astype(str).str.startswith("ZONE-")] if len(sh) else sh
    if len(zones):
        parts.append("所在" + "、".join(dict.fromkeys(zones["feature_name"].map(_s))) + "的管控要求未载入")
    return "；".join(parts)


def _site_conclusion(word: str, plans: list[str], tables: list[Table], gaps: str = "") -> str:
    docs = "、".join(plans) if plans else "所在地“三线一单”生态环境分区管控方案"
    pending = sum(r.verdict == PENDING for t in tables for r in t.rows)
    tail = f"上表中{pending}项须由编制单位核实填写。" if pending else ""
    if word == "不符合":
        return f"综上，本项目选址不符合{docs}的要求，须调整选址。"
    if gaps:  # never 符合 on data the package does not hold: say what must be supplied
        return f"综上，分区数据不完整（{gaps}），本项目选址的符合性无法判定，须补充上述数据和管控要求后重新筛查。{tail}"
    if word == "有条件符合":
        return f"综上，本项目在依法履行审批手续、落实上述管控条件的前提下，符合{docs}的要求。{tail}"
    if word == PENDING:
        return f"综上，本项目选址未发现违反{docs}禁止性要求的情形，须核实上述待核实事项后确定符合性。{tail}"
    return f"综上，本项目选址符合{docs}的要求。{tail}"


def _hit_table(hits: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    cols = ["地块编号", "项目名称", "规则编号", "分区", "要素编号", "要素名称", "判定", "符合性", "重叠面积（平方米）",
            "重叠面积（公顷）", "占项目用地比例（%）", "穿越长度（米）", "距离（米）", "管控要求", "依据"]  # fmt: skip
    if hits is None or not len(hits):
        return pd.DataFrame(columns=cols)
    h = pd.DataFrame(hits)
    m2 = pd.to_numeric(h["overlap_m2"], errors="coerce")
    return pd.DataFrame(
        {
            "地块编号": h["site_id"].astype(str),
            "项目名称": h["site_id"].astype(str).map(names),
            "规则编号": h["rule_id"].astype(str),
            "分区": [_layer_zh(str(v)) for v in h["layer"]],
            "要素编号": h["feature_id"].map(_s),
            "要素名称": h["feature_name"].map(_s),
            "判定": [st.VERDICT_ZH.get(str(v), str(v)) for v in h["verdict"]],
            "符合性": [eia_word(v) for v in h["verdict"]],
            "重叠面积（平方米）": m2.round(0),
            "重叠面积（公顷）": (m2 / 10_000).round(4),
            "占项目用地比例（%）": pd.to_numeric(h["overlap_pct"], errors="coerce").round(1),
            "穿越长度（米）": pd.to_numeric(h["length_m"], errors="coerce").round(1),
            "距离（米）": pd.to_numeric(h["distance_m"], errors="coerce").round(1),
            "管控要求": h["message_zh"].map(_s),
            "依据": h["basis"].map(_s),
        }
    )[cols]


def _fact_table(facts: SiteFacts, names: Mapping[str, str]) -> pd.DataFrame:
    f = facts.layers
    if not len(f):
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "地块编号": f["site_id"],
            "项目名称": f["site_id"].map(names),
            "分区": [_layer_zh(str(v)) for v in f["layer"]],
            "是否涉及": np.where(f["inside"], "涉及", "不涉及"),
            "涉及要素": f["inside_names"],
            "重叠面积（平方米）": f["overlap_m2"].round(0),
            "重叠面积（公顷）": f["overlap_ha"].round(4),
            "重叠面积（亩）": f["overlap_mu"].round(2),
            "占项目用地比例（%）": f["overlap_pct"].round(1),
            "穿越长度（米）": f["overlap_length_m"].round(1),
            "最近要素": f["nearest_name"],
            "最近要素编号": f["nearest_code"],
            "距离（米）": f["distance_m"].round(1),
            "方位": f["direction_zh"],
        }
    )


def _file_name(path: Any) -> str:
    """Name a file as the report does: its name only (never a local path); the bundled demo says so."""
    from spatial.zoning import display_path

    p = _s(path)
    if not p or p.startswith("("):
        return p or "—"
    shown = display_path(p)
    return shown if "内置数据" in shown else PurePath(p.replace("\\", "/")).name


def _audit(audit: Mapping[str, Any]) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """Audit rows and input files, with file names only (never a local path)."""
    rules = audit.get("rules") or {}
    sites = audit.get("sites") or {}
    rows = [
        ("软件版本", f"ecozone {_s(audit.get('ecozone_version'))}"),
        ("分析时间", datetime_zh(audit.get("run_at", "")) or "—"),
        ("工作坐标系", _s(audit.get("working_crs")) or "—"),
        (
            "规则目录",
            _s(rules.get("catalogue_id")) + (f"（版本 {_s(rules.get('version'))}）" if _s(rules.get("version")) else ""),
        ),
        ("面积量算", "CGCS2000 椭球面积（GRS80）；距离在工作坐标系（高斯-克吕格投影，米）中量算"),
        ("数据警告", "；".join(_s(w) for w in audit.get("warnings") or []) or "—"),
        *(
            (
                "准入清单",
                f"{_file_name(lst.get('path'))}：条款 {lst.get('n_clauses')} 条，已解析 {lst.get('n_parsed')}，待核实 {lst.get('n_pending')}"
                + "".join(f"；人工更正 {o.get('clause')}：{_s(o.get('change'))}" for o in lst.get("overrides") or []),
            )
            for lst in audit.get("lists") or []
        ),
    ]
    files = [
        {
            "用途": "规则目录",
            "文件": _file_name(rules.get("path")),
            "图层": "",
            "SHA-256": _s(rules.get("sha256")),
            "坐标系": "",
            "要素数": "",
        }
    ]
    if sites:
        files.append(
            {
                "用途": "项目地块",
                "文件": _file_name(sites.get("path")),
                "图层": "",
                "SHA-256": _s(sites.get("sha256")),
                "坐标系": _s(sites.get("crs")),
                "要素数": _s(sites.get("n_features")),
            }  # fmt: skip
        )
    for lst in audit.get("lists") or []:
        files.append({"用途": "准入清单", "文件": _file_name(lst.get("path")), "图层": "", "SHA-256": _s(lst.get("sha256")), "坐标系": "", "要素数": ""})
    for z in audit.get("zoning") or []:
        files.append(
            {
                "用途": "分区数据",
                "文件": _file_name(z.get("path")),
                "图层": _layer_zh(_s(z.get("layer"))),
                "SHA-256": _s(z.get("sha256")),
                "坐标系": _s(z.get("crs")),
                "要素数": _s(z.get("n_features")),
            }  # fmt: skip
        )
    return rows, pd.DataFrame(files, columns=["用途", "文件", "图层", "SHA-256", "坐标系", "要素数"])


def _indicator_frame(indicators: Any) -> pd.DataFrame | None:
    if indicators is None:
        return None
    frame = getattr(indicators, "frame", indicators)
    if not isinstance(frame, pd.DataFrame) or not len(frame):
        return None
    status = {"met": "达标", "not_met": "未达标", "no_target": "无目标", "unknown": "未评估"}
    cols = {"area_name": "范围", "label_zh": "指标", "value": "数值", "unit": "单位", "target": "目标", "status": "达标情况"}
    out = frame[[c for c in cols if c in frame]].rename(columns=cols).copy()
    if "达标情况" in out:
        out["达标情况"] = [status.get(_s(v), _s(v)) for v in out["达标情况"]]
    if "数值" in out:
        out["数值"] = [plain_number(v) for v in out["数值"]]
    return out.reset_index(drop=True)
