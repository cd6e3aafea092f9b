"""The report's content in the EIA 三线一单符合性分析 format, independent of the output format.

Per site, four tables with the columns reviewers expect
(序号 | 管控要求（清单内容） | 本项目情况 | 符合性):

1. 生态保护红线 (with 自然保护地, 饮用水水源保护区 and 一般生态空间);
2. 环境质量底线和资源利用上线: each touched control unit's 污染物排放管控 and
   资源开发效率要求, and the element zones when the zoning has them;
3. 生态环境准入清单: one row per clause of the unit's list, plus its 禁止类 and
   every unit-level finding;
4. 海域与岸线 (only where the package has them): 海岸线 and 近岸海域环境管控单元
   (the layers whose ``LayerSpec.report`` section is ``coast``);
5. 其他空间管控要求: 永久基本农田, 城镇开发边界, 生态廊道 and any other layer.

本项目情况 is prefilled from geometry (:mod:`spatial.facts`); cells a person must
complete carry :data:`TO_FILL`.  符合性 is computed where geometry and the
project type decide it and :data:`PENDING` otherwise.  Each table ends with a
conclusion and each site with a 综上 paragraph naming the plans with their 文号.
HTML, DOCX and XLSX all render this one model.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY, report_layers, section_layers
from layers.base import REPORT_SECTIONS
from maps import style as st
from maps.model import OutputModel, output_model, scheme_citations
from spatial.facts import M2_PER_MU, where_facts
from spatial.frames import records
from spatial.io import load_yaml
from spatial.plan_sections import cite_sections, compact_sections
from spatial.project_types import VERDICT_EIA
from spatial.rules import LEVEL_ZH
from spatial.zoning import DEMO_STAMP

__all__ = [
    "EIA_WORDS",
    "TO_FILL",
    "PENDING",
    "SHARED_LIST_INTRO",
    "RULE_TEXTS_INTRO",
    "HITS_NOTE",
    "Row",
    "Table",
    "SiteSection",
    "ReportModel",
    "build_model",
    "pack_pairs",
    "eia_word",
    "date_zh",
    "datetime_zh",
    "plain_number",
    "area_zh",
    "distance_zh",
    "scheme_citations",
]

#: Internal verdict -> the conclusion word an EIA report uses.
EIA_WORDS: dict[str, str] = dict(VERDICT_EIA)
#: Marks a cell a person must complete.
TO_FILL = "【待填写】"
PENDING = "待核实"
#: Printed above the table of list clauses several sites share.
SHARED_LIST_INTRO = (
    "准入清单共用条款：下列生态环境准入清单条款适用于两个及以上地块，均未能自动判定（待核实），逐条只列一次并列出适用地块；"
    "各地块表中以本表序号引用，逐条记录见 report.xlsx 与 hits.csv。"
)
#: Printed at the head of the site analysis when rows name their rules briefly.
RULE_TEXTS_INTRO = "说明：各表中未触发的管控要求只列其管控情形及首要依据，条文全文及完整依据见附表“管控规则条文”。"
#: Printed above the appendix of findings when the list's 待核实 clauses are left out of it.
HITS_NOTE = "准入清单中未能自动判定（待核实）的条款已在各地块表及准入清单共用条款表中逐条列出，本表不再重复；全部记录见 report.xlsx 与 hits.csv。"
_RANK = {"符合": 0, "待核实": 1, "有条件符合": 2, "不符合": 3}

#: Sections of the site analysis, with the layers each reports on.
SECTION_LAYERS: dict[str, tuple[str, ...]] = {k: section_layers(k) for k in REPORT_SECTIONS}  # from each LayerSpec.report
SECTION_TITLES = {
    "redline": "生态保护红线",
    "quality": "环境质量底线和资源利用上线",
    "list": "生态环境准入清单",
    "coast": "海域与岸线",
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


def distance_zh(metres: float) -> str:
    """Write a distance as a report does: ``约350 m``, ``约1.2 km``.

    Parameters
    ----------
    metres : float
        Distance in metres.

    Returns
    -------
    str
        Metres below 1 km (to 10 m above 100 m), kilometres to 0.1 km above.
    """
    if metres is None or not np.isfinite(metres):
        return ""
    if metres < 1:
        return "不足1 m"
    if metres < 100:
        return f"约{round(metres)} m"
    if metres < 995:
        return f"约{int(round(metres, -1))} m"
    return f"约{metres / 1000:.1f} km"


def area_zh(m2: float) -> str:
    """Write an area in 平方米, 公顷 and 亩.

    Parameters
    ----------
    m2 : float
        Area in square metres.

    Returns
    -------
    str
        E.g. ``5200 m²（0.52 公顷，7.8 亩）``.
    """
    if m2 is None or not np.isfinite(m2):
        return ""
    return f"{m2:,.0f} m²（{m2 / 10_000:,.2f} 公顷，{m2 / M2_PER_MU:,.1f} 亩）"


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
    layers : tuple of str
        The layers the row is about: its 本项目情况 states facts of these only.
    brief : bool
        True when the requirement names only the situations its rules control (rules that did not
        fire): their full text and basis stand once in the model's ``rule_texts``.
    """

    requirement: str
    situation: str
    verdict: str
    rules: str = ""
    geometric: bool = False
    basis: str = ""
    layers: tuple[str, ...] = ()
    brief: bool = False


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
    hits_printed: pd.DataFrame | None = None
    layer_facts: pd.DataFrame = field(default_factory=pd.DataFrame)
    audit: list[tuple[str, str]] = field(default_factory=list)
    audit_files: pd.DataFrame = field(default_factory=pd.DataFrame)
    indicators: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    shared_list: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule_texts: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    figure_intro: str = ""
    coverage: list[str] = field(default_factory=list)
    stamp: str = ""
    #: A summary report's note under 逐个地块符合性分析 (empty for a full report).
    summary_note: str = ""


def pack_pairs(items: list[tuple[str, str]], short: int = 16) -> list[list[tuple[str, str]]]:
    """Pack short key/value items two to a row (a four-column facts table); long ones get a full row.

    Parameters
    ----------
    items : list of (str, str)
        A site's facts (:attr:`SiteSection.info`).
    short : int, default 16
        Longest value that shares a row.

    Returns
    -------
    list of list of (str, str)
        Rows of one or two items, in order.
    """
    rows: list[list[tuple[str, str]]] = []
    pending: tuple[str, str] | None = None
    for k, v in items:
        if len(str(v)) > short:
            rows.append([(k, v)])
        elif pending is None:
            pending = (k, v)
        else:
            rows.append([pending, (k, v)])
            pending = None
    if pending is not None:
        rows.append([pending])
    return rows


def _county(zoning: Any) -> tuple[str, str]:
    b = zoning.layers.get("boundary") if zoning is not None else None
    if b is None or not len(b):
        return "", ""
    name = _s(b["name"].iloc[0]) if "name" in b else ""
    code = _s(b["code"].iloc[0]) if "code" in b else ""
    return name, code


def _figure_ref(n: int | None) -> str:
    return f"（见附图{n}）" if n else ""


def _feature_text(name: str, code: str) -> str:
    names, codes = name.split("、"), code.split("、")
    parts = []
    for nm, cd in zip(names, codes, strict=False):
        parts.append(f"“{nm}”（{cd}）" if cd and cd != nm else f"“{nm}”")
    return "、".join(parts)


def nearest_zh(f: Mapping[str, Any], label: str = "") -> str:
    """Name the nearest feature of an outside finding: ``最近的…“名称”（距离约350 m，方位东北）``.

    Parameters
    ----------
    f : mapping
        A facts record (``nearest_name``, ``nearest_code``, ``distance_m``, ``direction_zh``).
    label : str, optional
        What the feature is (e.g. ``城镇开发边界``).

    Returns
    -------
    str
        The phrase ('' when there is no nearest feature).
    """
    if not _s(f.get("nearest_name")):
        return ""
    name, code = _s(f["nearest_name"]), _s(f.get("nearest_code"))
    parts = [code] if code and code != name else []
    parts.append(f"距离{distance_zh(f['distance_m'])}")
    if _s(f.get("direction_zh")):
        parts.append(f"方位{f['direction_zh']}")
    return f"最近的{label}{'为' if label else ''}“{name}”（{'，'.join(parts)}）"


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
    near = nearest_zh(f)
    if not near:
        return f"项目不涉及{label}。"
    return f"项目不在{label}内，{near}{_figure_ref(fig)}"


def _direction(d: str) -> str:
    """``东北方向``; a cardinal direction reads ``正南方向``."""
    if not d:
        return ""
    return f"{'正' if len(d) == 1 else ''}{d}方向"


def _where_zh(layer: str, wheres: Sequence[Mapping[str, Any]]) -> str:
    """Name the part of a layer some rules read, e.g. ``（一级、二级）``; '' when they read all of it."""
    if not wheres or any(not w for w in wheres):
        return ""
    spec = REGISTRY.get(layer)
    fields = {f.name: f for f in getattr(spec, "fields", ())}
    words: list[str] = []
    for w in wheres:
        for fname, allowed in w.items():
            fs = fields.get(fname)
            for v in allowed:
                syn = [t for t in (fs.values.get(str(v), ()) if fs is not None else ()) if re.search(r"[\u4e00-\u9fff]", t)]
                words.append(syn[0] if syn else str(v))
    words = list(dict.fromkeys(words))
    return f"（{'、'.join(words)}）" if words else ""


#: One fact record of a site (:data:`spatial.facts.FACT_COLUMNS`), or None when there is none.
Fact = Mapping[str, Any] | None
#: Facts of every site by (site id, layer): :attr:`spatial.facts.SiteFacts.layers` as a plain lookup.
LayerFacts = Mapping[tuple[str, str], Mapping[str, Any]]


class _RowFacts:
    """The facts the rows state about the features their rules read: asked for as the rows are laid out, measured at once.

    A row measured on some rules' features (their ``where``) is laid out with
    its words but not yet its 本项目情况; :meth:`ask` notes what it needs, and
    :meth:`state` gets every selection measured in one pass (all sites at once,
    each selection once: :func:`spatial.facts.where_facts`) and writes the
    situations.
    """

    def __init__(self) -> None:
        self.selections: dict[tuple[str, str], tuple[str, Sequence[Mapping[str, Any]]]] = {}
        self._asked: list[tuple[Row, str, tuple[str, str], Callable[[Fact], str]]] = []

    def ask(self, row: Row, sid: str, layer: str, wheres: Sequence[Mapping[str, Any]], say: Callable[[Fact], str]) -> Row:
        """Note that ``row``'s situation is ``say(facts of sid on the features wheres picks)``; return the row."""
        key = (layer, repr([sorted((k, list(v)) for k, v in w.items()) for w in wheres]))
        self.selections.setdefault(key, (layer, list(wheres)))
        self._asked.append((row, str(sid), key, say))
        return row

    def state(self, measured: Mapping[tuple[str, str], Mapping[str, Mapping[str, Any]] | None]) -> None:
        """Write every asked row's situation from the facts measured for :attr:`selections`."""
        for row, sid, key, say in self._asked:
            found = measured.get(key)
            row.situation = say(None if found is None else found.get(sid))


def _messages(pairs: Sequence[tuple[str, str]]) -> tuple[str, str]:
    text = "；".join(dict.fromkeys(m.rstrip("。") for m, _ in pairs if m)) + "。"
    basis = "；".join(dict.fromkeys(b for _, b in pairs if b))
    return text, basis


def _trigger(message: str) -> str:
    """Return the situation a rule controls: its message up to the first clause break outside brackets.

    ``位于生态保护红线内（自然保护地核心保护区外），禁止…`` -> ``位于生态保护红线内（自然保护地核心保护区外）``;
    a clause continued by 且/并/或/但 stays whole.
    """
    text, depth = str(message or "").strip(), 0
    for k, ch in enumerate(text):
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in "，；：。,;:" and not (ch in "，," and text[k + 1 : k + 2] in ("且", "并", "或", "但")):
            return text[:k]
    return text.rstrip("。")


def _first_source(basis: str) -> str:
    """Return the first citation of a rule's basis, with 等 when it has more."""
    parts = [p for p in str(basis or "").split("；") if p.strip()]
    return parts[0] + ("等" if len(parts) > 1 else "") if parts else ""


def _reach_m(rule: Any) -> str:
    for v in (getattr(rule, "buffer_m", None), getattr(rule, "distance_m", None)):
        if isinstance(v, (int, float)) and v > 0:
            return f"{plain_number(v)} m"
    return ""


def _hit_situation(f: Mapping[str, Any] | None, rule: Any, label: str, dim: int, fig: int | None) -> str:
    """本项目情况 of a row whose rule fired: measured on that rule's features only (dissolved)."""
    if f is None:
        return f"分区数据中无{label}图层，未核查。{TO_FILL}"
    mode = getattr(rule, "mode", "")
    if mode == "outside":
        if f["inside"]:
            return f"项目部分位于{label}{_feature_text(f['inside_names'], f['inside_codes'])}内，部分位于其外{_figure_ref(fig)}"
        near = nearest_zh(f)
        return f"项目不在{label}内" + (f"，{near}" if near else "") + _figure_ref(fig)
    if f["inside"]:
        return _situation(f, label, dim, fig)
    near = nearest_zh(f)
    reach = _reach_m(rule)
    within = f"，位于其{reach}管控范围内" if reach else "，位于其管控范围内"
    return f"项目不在{label}内，{near}{within}{_figure_ref(fig)}" if near else f"项目位于{label}管控范围内{_figure_ref(fig)}"


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


class _BySite:
    """A frame's rows grouped by site, read once: as records (:func:`spatial.frames.records`) and as positions.

    Slicing the frame per site cost about 1 ms a site, and every slice was read again row by row;
    the records are made once for the whole frame, in its order.

    Parameters
    ----------
    frame : DataFrame, optional
        Rows with a ``site_id`` column (None or empty: no site has rows).
    """

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._at: dict[str, list[int]] = {}
        if frame is None or not len(frame):
            return
        keys = frame["site_id"].astype(str).tolist()
        for i, (key, rec) in enumerate(zip(keys, records(frame), strict=True)):
            self._rows.setdefault(key, []).append(rec)
            self._at.setdefault(key, []).append(i)

    def rows(self, sid: str) -> list[dict[str, Any]]:
        """Return the site's rows as records (empty list: none)."""
        return self._rows.get(sid, [])

    def positions(self, sid: str) -> np.ndarray:
        """Return the positions of the site's rows in the frame."""
        return np.asarray(self._at.get(sid, []), dtype=np.intp)


_HitArrays = tuple[dict[str, np.ndarray], np.ndarray]
_HIT_TEXT = ("layer", "rule_id", "message_zh", "basis")


def _hit_arrays(hits: pd.DataFrame | None) -> _HitArrays:
    """Return the findings as arrays: layer, rule_id, message_zh and basis as text, and the verdicts.

    Made once for the whole frame and indexed per site (:func:`_site_arrays`) for every section's
    rows (slicing the frame per layer and rule cost ~0.3 ms a slice).
    """
    if hits is None or not len(hits):
        return {c: np.zeros(0, dtype=object) for c in _HIT_TEXT}, np.zeros(0, dtype=object)
    col = {c: hits[c].astype(str).to_numpy(dtype=object) for c in _HIT_TEXT}
    return col, hits["verdict"].to_numpy(dtype=object)


def _site_arrays(arrays: _HitArrays, at: np.ndarray) -> _HitArrays:
    """Return the rows ``at`` of :func:`_hit_arrays`' arrays (one site's findings)."""
    col, verdicts = arrays
    return {c: a[at] for c, a in col.items()}, verdicts[at]


def _layer_rows(
    layers: Sequence[str], zoning: Any, rowfacts: _RowFacts, sid: str, dim: int,
    hits: _HitArrays, rules: Sequence[Any],
    ptype: str, figs: Mapping[str, int],
) -> list[Row]:  # fmt: skip
    """One row per requirement: each rule that fired (its own features' facts), then the other rules that apply.

    A rule that does not concern the project type and did not fire gives no row
    (nothing printed as 未设定); a row's 本项目情况 is measured on the features
    its rules read (their ``where``: a river row on rivers, a road row on roads),
    and written once ``rowfacts`` has them measured (:meth:`_RowFacts.state`).  ``hits`` is the
    site's hits as :func:`_site_arrays` gives them.
    """
    by_id = {r.id: r for r in rules}
    rows = []
    col, verdicts = hits
    for layer in layers:
        if layer not in zoning.layers or not len(zoning.layers[layer]):
            continue
        label = _layer_zh(layer)
        fig = figs.get(layer)
        at = np.flatnonzero(col["layer"] == layer)
        fired = list(dict.fromkeys(col["rule_id"][at].tolist()))
        for rid in fired:
            sel = at[col["rule_id"][at] == rid]
            rule = by_id.get(rid)
            wheres = [rule.where] if rule is not None else [{}]
            req, basis = _messages(list(zip(col["message_zh"][sel].tolist(), col["basis"][sel].tolist(), strict=True)))
            row = Row(req, "", _worst([eia_word(v) for v in verdicts[sel]]), rid, geometric=True, basis=basis, layers=(layer,))
            say = functools.partial(_hit_situation, rule=rule, label=label + _where_zh(layer, wheres), dim=dim, fig=fig)
            rows.append(rowfacts.ask(row, sid, layer, wheres, say))
        quiet = [
            r for r in rules
            if layer in r.layers and r.id not in fired and r.type_verdicts.get(ptype) is not None
            and getattr(r, "mode", "") not in ("unit_prohibited",) and not (fired and getattr(r, "mode", "") == "near")
        ]  # fmt: skip
        kind_field = getattr(REGISTRY.get(layer), "kind_field", None)
        groups: dict[Any, list[Any]] = {}
        for r in quiet:  # different kinds of feature (roads, rivers) get a row each; grades of one kind share one
            groups.setdefault(tuple(r.where.get(kind_field, ())) if kind_field else None, []).append(r)
        for group in groups.values():
            wheres = [r.where for r in group]
            # Nothing found: the situations the rules control and each rule's first source; the full text and
            # basis of each rule stand once in the report's rule list (ReportModel.rule_texts) and rules.csv.
            req, basis = _messages([(_trigger(r.message_zh), _first_source(r.basis)) for r in group])
            row = Row(req, "", "符合", "、".join(r.id for r in group), geometric=True, basis=basis, layers=(layer,), brief=True)
            say = functools.partial(_situation, label=label + _where_zh(layer, wheres), dim=dim, fig=fig)
            rows.append(rowfacts.ask(row, sid, layer, wheres, say))
    return rows


def _unit_rows(
    units: Sequence[Mapping[str, Any]], keys: Sequence[str], dim: int, fig: int | None, names: Mapping[str, str] | None = None
) -> list[Row]:
    """Rows for the quality/resource dimensions of every touched unit (records; person completes the situation)."""
    from layers.control_unit import CATEGORY_ZH, DIMENSIONS

    dims = {**DIMENSIONS, **(names or {})}  # the city scheme's own dimension names where it has them

    rows = []
    for u in units:
        where = f"项目位于“{_s(u.get('name'))}”（{_s(u.get('code'))}，{CATEGORY_ZH.get(_s(u.get('category')), '环境管控单元')}）"
        m2 = u.get("overlap_m2")
        if dim == 2 and not _blank(m2) and float(m2) > 0:
            where += f"，重叠面积{area_zh(float(m2))}"
        for k, key in enumerate(keys):
            if k:
                where = "同上"  # the unit is named once per unit
            text = _s(u.get(key))
            label = dims.get(key, "综合准入要求")
            if not text:
                continue  # no requirement in this dimension: no row (never printed as 未设定)
            rows.append(
                Row(
                    f"{label}：{text}",
                    f"{where}{_figure_ref(fig) if not k else ''}。{TO_FILL}{_HINTS[key]}",
                    PENDING,
                    geometric=False,
                    layers=("control_unit",),
                )
            )
    return rows


def _ban_tokens(prohibited: str) -> list[str]:
    return [t for t in re.split(r"[;；,，、/\s]+", prohibited or "") if t]


def _known_positions(clause: str, zoning: Any, facts: LayerFacts, sid: str) -> tuple[str, tuple[str, ...]]:
    """Say what the tool knows about the places a 空间布局约束 clause names (red line, parks, boundary …).

    A layer counts as named when the clause contains its label or one of its
    Chinese layer aliases (three characters or more) from its ``LayerSpec``.
    """
    said, layers = [], []
    for name in zoning.layers:
        spec = REGISTRY.get(name)
        if name in _NO_ROW or spec is None:
            continue
        words = {spec.label_zh, *(a for a in spec.aliases if len(a) >= 3 and re.search(r"[\u4e00-\u9fff]{3}", a))}
        if not any(w in clause for w in words):
            continue
        f = facts.get((sid, name))
        if f is None:
            continue
        label = _layer_zh(name)
        if f["inside"]:
            said.append(f"位于{label}{_feature_text(f['inside_names'], f['inside_codes'])}内")
        else:
            near = nearest_zh(f)
            said.append(f"不在{label}内" + (f"（{near}）" if near else ""))
        layers.append(name)
    return ("经核查，项目" + "；".join(said) + "。") if said else "", tuple(layers)


def _list_rows(
    units: Sequence[Mapping[str, Any]], hits: Sequence[Mapping[str, Any]], ptype: str, ptype_zh: str, banned_rules: set[str], fig: int | None,
    known: Any = None, names: Mapping[str, str] | None = None, shared: Mapping[str, int] | None = None,
) -> list[Row]:  # fmt: skip
    """One row per clause of each touched unit's list, its 禁止类, and the unit-level findings (units and hits as records).

    Published-list clauses (``LIST:`` rules) that are 待核实 are answered together in one row: those
    in ``shared`` (clauses several sites share, printed once under the summary) by their number, the
    site's others quoted; a decided clause keeps its own row.
    """
    rows: list[Row] = []
    uh = [h for h in hits if str(h.get("layer")) == "control_unit"]
    answered: set[str] = set()
    for u in units:
        code, name = _s(u.get("code")), _s(u.get("name"))
        mine = [h for h in uh if str(h.get("feature_id")) == code or str(h.get("feature_name")) == name]
        ban_ids = [str(h.get("rule_id")) for h in mine if str(h.get("rule_id")) in banned_rules]
        tokens = _ban_tokens(_s(u.get("prohibited")))
        head = f"“{name}”（{code}）"
        if tokens:
            if ban_ids:
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
                    "、".join(dict.fromkeys(ban_ids)),
                    True,
                    layers=("control_unit",),
                )
            )
        for key, label in (
            ("requirements", "综合准入要求"),
            ("spatial_layout", (names or {}).get("spatial_layout", "空间布局约束")),
            ("risk_prevention", (names or {}).get("risk_prevention", "环境风险防控")),
        ):
            clause = _s(u.get(key))
            if not clause:
                continue
            banned_clause = (
                next((c for c in _clauses(clause) if "禁止" in c and any(t in c for t in tokens)), None) if ban_ids else None
            )
            if banned_clause:
                rows.append(
                    Row(
                        f"{label}：{clause}",
                        f"项目类型为{ptype_zh}，属“{banned_clause.rstrip('。；;')}”所列项目",
                        "不符合",
                        layers=("control_unit",),
                    )
                )
            else:
                said, where = known(clause) if known is not None and key == "spatial_layout" else ("", ())
                rows.append(Row(f"{label}：{clause}", f"{said}{TO_FILL}{_HINTS[key]}", PENDING, layers=("control_unit", *where)))
        rest = [h for h in mine if str(h.get("rule_id")) not in banned_rules]
        pending = [str(h.get("rule_id")).startswith("LIST:") and str(h.get("verdict")) == "notice" for h in rest]
        new = [h for h, p in zip(rest, pending, strict=True) if p and str(h.get("rule_id")) not in answered]  # a county-wide clause: once per site
        rows.extend(_pending_list_rows(new, head, ptype_zh, shared or {}))
        answered.update(str(h.get("rule_id")) for h in new)
        for h in (h for h, p in zip(rest, pending, strict=True) if not p):
            cond = _s(h.get("conditions_zh"))  # an access-list clause's qualifiers (新建/入园/范围/规模)
            rows.append(
                Row(
                    _s(h.get("message_zh")),
                    f"项目位于{head}内，项目类型为{ptype_zh}{_figure_ref(fig)}" + (f"；条件：{cond}" if cond else ""),
                    eia_word(h.get("verdict")),
                    _s(h.get("rule_id")),
                    True,
                    _s(h.get("basis")),
                    ("control_unit",),
                )
            )
    return rows


def _pending_list_rows(pending: Sequence[Mapping[str, Any]], head: str, ptype_zh: str, shared: Mapping[str, int]) -> list[Row]:
    """Answer the 待核实 clauses of a published list for one unit in one row (``pending``: the findings, as records).

    Clauses several sites share (``shared``: rule id -> its number in the
    model's ``shared_list`` table, printed once with the sites it applies to)
    are cited by number; the site's own clauses are quoted in full.
    """
    if not pending:
        return []
    first: dict[str, Mapping[str, Any]] = {}
    for h in pending:  # each clause once, where it first appears
        first.setdefault(str(h.get("rule_id")), h)
    ids = list(first)
    nums = sorted({shared[r] for r in ids if r in shared})
    own = [h for r, h in first.items() if r not in shared]
    parts = []
    if nums:
        parts.append(f"准入清单共用条款表（见“一、选址符合性结论汇总”）第{'、'.join(map(str, nums))}条")
    if own:
        parts.append("；".join(f"（{i}）{_s(h.get('message_zh'))}" for i, h in enumerate(own, start=1)))
    basis = "、".join(dict.fromkeys(_s(h.get("basis")).split("〔")[0] for h in own if _s(h.get("basis"))))
    sit = f"项目位于{head}内，项目类型为{ptype_zh}；须对照各条逐一核实。{TO_FILL}"
    text = "准入清单中以下条款未能自动判定：" + "；".join(parts)
    return [Row(text, sit, PENDING, "、".join(dict.fromkeys(ids)), False, basis, ("control_unit",))]


def _site_set_zh(sids: Sequence[str], every: Sequence[str]) -> str:
    """Name a set of sites: all of them, all but a few (when shorter), or each."""
    rest = [i for i in every if i not in set(sids)]
    if every and not rest:
        return f"全部{len(sids)}个地块"
    if every and len(rest) < len(sids) / 2 and set(sids) <= set(every):
        return f"除{'、'.join(rest)}外的全部地块（{len(sids)}个）"
    return f"{'、'.join(sids)}（{len(sids)}个）"


def _shared_list(hits: pd.DataFrame, names: Mapping[str, str] | None = None) -> tuple[dict[str, int], pd.DataFrame]:
    """Give each published-list clause that is 待核实 for two sites or more one number, with the sites it applies to.

    Parameters
    ----------
    hits : DataFrame
        The screening's findings.
    names : mapping, optional
        Every site id of the report (to say 全部地块 when a clause applies to all).

    Returns
    -------
    dict of str to int
        Rule id -> number (1, 2, … in order of first appearance).
    DataFrame
        ``序号``, ``条款``, ``出处``, ``适用地块``: the table printed once under the summary.
    """
    cols = ["序号", "条款", "出处", "适用地块"]
    if hits is None or not len(hits) or "rule_id" not in hits:
        return {}, pd.DataFrame(columns=cols)
    lh = hits[hits["rule_id"].astype(str).str.startswith("LIST:") & (hits["verdict"].astype(str) == "notice")]
    sites = lh.groupby(lh["rule_id"].astype(str), sort=False)["site_id"].agg(lambda v: list(dict.fromkeys(v.astype(str))))
    sites = sites[sites.map(len) >= 2]
    first = lh.drop_duplicates("rule_id").set_index(lh.drop_duplicates("rule_id")["rule_id"].astype(str))
    every = dict.fromkeys(names or ())
    rows = []
    for n, (rid, sids) in enumerate(sites.items(), start=1):
        rows.append({
            "序号": n,
            "条款": _s(first.at[rid, "message_zh"]),
            "出处": _s(first.at[rid, "basis"]),
            "适用地块": _site_set_zh(sids, list(every)),
        })  # fmt: skip
    return {rid: n for n, rid in enumerate(sites.index, start=1)}, pd.DataFrame(rows, columns=cols)


def _pending_list_mask(hits: pd.DataFrame) -> np.ndarray:
    """Mark the findings that are 待核实 clauses of a published list (``LIST:`` rules)."""
    if hits is None or not len(hits) or "rule_id" not in hits:
        return np.zeros(0 if hits is None else len(hits), dtype=bool)
    return (hits["rule_id"].astype(str).str.startswith("LIST:") & (hits["verdict"].astype(str) == "notice")).to_numpy()


def _rule_texts(rules: Sequence[Any], rows: Sequence[Row]) -> pd.DataFrame:
    """Return the full text and basis of every rule a brief row names, once each (规则编号, 管控要求, 依据)."""
    named = {i for r in rows for i in r.rules.split("、")}
    ids = list(dict.fromkeys(r.id for r in rules if r.id in named))  # in catalogue order
    by_id = {r.id: r for r in rules}
    return pd.DataFrame(
        {
            "规则编号": ids,
            "管控要求": [_s(by_id[i].message_zh) for i in ids],
            "依据": [_s(by_id[i].basis) for i in ids],
        },
        columns=["规则编号", "管控要求", "依据"],
    )


#: Chinese labels of the columns the site readers add (coordinate files: spatial.coordfile).
INFO_LABELS = {
    "declared_area_ha": "申报面积（公顷）",
    "gk_plane_area_ha": "高斯平面面积（公顷）",
    "ellipsoidal_area_ha": "椭球面积（公顷）",
    "land_use": "用地用途",
    "project_type_raw": "项目类型（原表）",
}


def _info_rows(
    row: Mapping[str, Any], coords: Mapping[str, Any], facts: LayerFacts, sid: str, dim: int, extra_cols: Sequence[str],
    ptype_zh: str, placeholder: Mapping[str, bool],
) -> list[tuple[str, str]]:  # fmt: skip
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
    town = facts.get((sid, "town"))
    if town is not None and town["inside"]:
        info.append(("所在乡镇", town["inside_names"]))
    unit = facts.get((sid, "control_unit"))
    if unit is not None and unit["inside"]:
        info.append(
            ("所在环境管控单元", _feature_text(unit["inside_names"], unit["inside_codes"]).replace("“", "").replace("”", ""))
        )
    attrs = [f"{INFO_LABELS.get(c, c)}：{_s(row.get(c))}" for c in extra_cols if _s(row.get(c)) and not placeholder.get(c)]
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
    now: datetime | None = None,
    model: OutputModel | None = None,
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
    now : datetime, optional
        Report date (default: now, local time).
    model : OutputModel, optional
        What the lower modules tell about the result (:func:`maps.model.output_model`), computed once
        for every writer (default: computed here).

    Returns
    -------
    ReportModel
        The content every renderer draws.
    """
    now = now or datetime.now().astimezone()
    sites = result.sites
    zoning = result.zoning
    model = model if model is not None else output_model(result)
    facts = model.layer_facts
    figure_numbers = dict(figure_numbers or {})
    site_figures = dict(site_figures or {})
    county, _ = _county(zoning)
    ids = sites["site_id"].astype(str).tolist()
    placeholders = records(model.placeholders)
    names = [  # a template placeholder (DKMC, FID_0, @) is no name: the 地块编号 (file stem + parcel number) stands in
        i if p["name"] else (_s(n) or i) for n, i, p in zip(sites["name"] if "name" in sites else ids, ids, placeholders, strict=True)
    ]
    if project is None:
        project = names[0] if len(ids) == 1 else "建设项目选址"
    title = title or f"{county}{project}生态环境分区管控符合性分析报告"
    rules = list(getattr(result, "rules", None) or [])
    banned_rules = {r.id for r in rules if getattr(r, "mode", None) == "unit_prohibited"} or {"CU-BANNED"}
    hits = result.hits if getattr(result, "hits", None) is not None else pd.DataFrame()
    shared_ids, shared_table = _shared_list(hits, dict.fromkeys(sites["site_id"].astype(str)))
    site_hits = _BySite(hits)  # read once, split per site
    hit_arrays = _hit_arrays(hits)
    dims = shapely.get_dimensions(np.asarray(sites.geometry.values, dtype=object))
    coords = model.coords
    plans = list(model.plans)
    extra_cols = list(model.user_columns)
    rowfacts = _RowFacts()
    site_units = _BySite(model.units)  # read once, split per site, as the hits
    dim_names = dict(model.dimension_names)
    other_layers = [n for n in zoning.layers if n not in _NO_ROW and not any(n in v for v in SECTION_LAYERS.values())]
    sections: list[SiteSection] = []
    ends: list[tuple[str, str]] = []  # each section's conclusion word and what the package could not tell
    summary_rows = []
    for i, row in enumerate(records(sites.drop(columns=sites.geometry.name))):
        sid, name, dim = ids[i], names[i], int(dims[i])
        ptype = _s(row.get("project_type"))
        ptype_zh = model.type_zh.get(ptype, ptype)
        sh = site_hits.rows(sid)
        arrays = _site_arrays(hit_arrays, site_hits.positions(sid))  # the site's hits as arrays, for every section's rows
        units = site_units.rows(sid)
        here = {str(h.get("layer")) for h in sh}
        fig = site_figures.get(sid)
        t1 = _layer_rows(SECTION_LAYERS["redline"], zoning, rowfacts, sid, dim, arrays, rules, ptype, figure_numbers)
        t2 = _unit_rows(units, ("emission_control", "resource_efficiency"), dim, figure_numbers.get("control_unit"), dim_names)
        t2 += _layer_rows(SECTION_LAYERS["quality"], zoning, rowfacts, sid, dim, arrays, rules, ptype, figure_numbers)
        t3 = _list_rows(
            units, sh, ptype, ptype_zh, banned_rules, figure_numbers.get("control_unit"),
            lambda clause, sid=sid: _known_positions(clause, zoning, facts, sid), dim_names, shared_ids,
        )  # fmt: skip
        t5 = _layer_rows(SECTION_LAYERS["coast"], zoning, rowfacts, sid, dim, arrays, rules, ptype, figure_numbers)  # where the package has them
        t4 = _layer_rows((*SECTION_LAYERS["other"], *other_layers), zoning, rowfacts, sid, dim, arrays, rules, ptype, figure_numbers)
        for h in (h for h in sh if str(h.get("layer")) == "boundary"):
            t4.append(
                Row(
                    _s(h.get("message_zh")),
                    f"项目部分位于分区数据范围（{county or '行政区'}）以外，范围外部分未核查。{TO_FILL}",
                    eia_word(h.get("verdict")),
                    _s(h.get("rule_id")),
                    True,
                    _s(h.get("basis")),
                    ("boundary",),
                )
            )
        for h in (h for h in sh if str(h.get("rule_id")).startswith(_COVERAGE_PREFIXES)):
            # What the package cannot tell (missing layer, zone without loaded rules): 待核实, never 不涉及.
            t4.append(Row(_s(h.get("message_zh")), f"{_s(h.get('feature_name')) + '：' if _s(h.get('feature_name')) else ''}须补充数据或管控要求后核实。{TO_FILL}", PENDING, _s(h.get("rule_id")), layers=(_s(h.get("layer")),)))
        if "control_unit" in zoning.layers and not len(units):
            t2.append(
                Row(
                    "环境管控单元管控要求。",
                    "项目不在任何环境管控单元内（位于分区数据范围以外）。",
                    PENDING,
                    geometric=True,
                    layers=("control_unit",),
                )
            )
        tables = [
            Table(k, SECTION_TITLES[k], rows, _conclusion(SECTION_TITLES[k], rows))
            for k, rows in (("redline", t1), ("quality", t2), ("list", t3), ("coast", t5), ("other", t4))
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
                info=_info_rows(row, coords.get(sid, {}), facts, sid, dim, extra_cols, ptype_zh, placeholders[i])
                + ([("位置示意图", f"见附图{fig}")] if fig else []),
                tables=tables,
                conclusion="",  # the 综上 paragraph, once the rows are complete (below)
                figure=fig,
            )
        )
        gaps = _site_gaps(row, sh)
        ends.append((word, gaps))
        involved = [_layer_zh(n) for n in _CONSTRAINT_LAYERS if (f := facts.get((sid, n))) is not None and f["inside"]]
        involved += [
            f"{_layer_zh(n)}管控范围" for n in _CONTROL_ZONE_LAYERS if n in here
        ]
        ub = facts.get((sid, "urban_boundary"))
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
                        "涉及" + "、".join(involved) if involved else ("" if gaps else "不涉及生态保护红线等空间管控区"),
                        where,
                        gaps and "待核实：" + gaps,
                    )
                    if t
                ),
                "分项结论": _site_table_titles(tables),
                "数据覆盖": _s(row.get("coverage_zh")),
            }
        )
    # The rows are laid out: measure what they state (every site and selection at once), then cite plans by section.
    rowfacts.state(where_facts(sites, zoning, rowfacts.selections, known=facts))
    rows = [r for x in sections for t in x.tables for r in t.rows]
    hit_table = _hit_table(hits, dict(zip(ids, names, strict=True)), model.hit_directions)
    rule_texts = _rule_texts(rules, [r for r in rows if r.brief])
    cited = _cite_plans([*(r.basis for r in rows), *hit_table["依据"], *shared_table["出处"], *rule_texts["依据"]])
    for r in rows:
        r.basis = cited[r.basis]
    for frame, col in ((hit_table, "依据"), (shared_table, "出处"), (rule_texts, "依据")):
        frame[col] = [cited[t] for t in frame[col]]
    for x, (word, gap) in zip(sections, ends, strict=True):
        x.conclusion = _site_conclusion(word, plans, x.tables, gap)
    summary = pd.DataFrame(
        summary_rows, columns=["序号", "地块编号", "项目名称", "项目类型", "符合性结论", "涉及情况", "分项结论", "数据覆盖"]
    )
    for c in extra_cols:  # the planner's own columns, unchanged (known ones in Chinese; renamed only on a clash)
        label = INFO_LABELS.get(c, c)
        summary[label if label not in summary.columns else f"{label}（原表）"] = sites[c].to_numpy()
    counts = {w: int((summary["符合性结论"] == w).sum()) for w in ("不符合", "有条件符合", "待核实", "符合")}
    run_at = datetime_zh((getattr(result, "audit", {}) or {}).get("run_at", ""))
    audit, files = _audit(getattr(result, "audit", {}) or {}, getattr(result, "rules", None), zoning)
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
        hits=hit_table,
        # 待核实 list clauses stand in the site tables (quoted, or by number in the shared table): not repeated in the appendix
        hits_printed=hit_table[~_pending_list_mask(hits)].reset_index(drop=True) if _pending_list_mask(hits).any() else None,
        layer_facts=_fact_table(model.facts_table, dict(zip(ids, names, strict=True))),
        audit=audit,
        audit_files=files,
        indicators=_indicator_frame(indicators),
        warnings=[_s(w) for w in (getattr(result, "audit", {}) or {}).get("warnings") or [] if _s(w)],
        figure_intro=_figure_intro(figures, set(site_figures.values())),
        coverage=_coverage_lines(getattr(result, "audit", {}) or {}),
        stamp=DEMO_STAMP if (getattr(result, "audit", {}) or {}).get("demo") else "",
        notes=_law_notes(getattr(result, "rules", None)),
        shared_list=shared_table,
        rule_texts=rule_texts,
    )


def _cite_plans(texts: Sequence[str]) -> dict[str, str]:
    """Cite every plan by its sections, never by a line of its text file (each distinct text once)."""
    return {t: compact_sections(cite_sections(t)) for t in dict.fromkeys(texts)}


def _figure_intro(figures: Sequence[tuple[int, str, str]], insets: set[int]) -> str:
    """Write the sentence citing 附图1 and the layer maps, so they are cited (and numbered) before the insets."""
    groups = [(n, cap) for n, cap, _ in figures if n > 1 and n not in insets]
    text = "项目地块位置见附图1" if any(n == 1 for n, _, _ in figures) else ""
    if groups:
        text += "；项目与各类分区的位置关系见" + "、".join(f"附图{n}（{cap}）" for n, cap in groups)
    if insets:
        text += "；各地块位置及周边分区见各地块分析中所列附图"
    return text + "。" if text else ""


def _plans_cited(tables: list[Table]) -> list[str]:
    """Local plans (kind ``plan`` in the sources registry) cited by the rows, with their 文号 when held."""
    from spatial.sources import default_registry

    text = "；".join(r.basis for t in tables for r in t.rows)
    plans = [src for src in default_registry().sources.values() if src.kind == "plan" and f"《{src.title}》" in text]
    return [src.citation for src in plans]


def _breaches(tables: list[Table]) -> list[str]:
    """Each 不符合 row as ``位于…，违反《…》第…条`` (the requirement's first clause and its first source)."""
    out = []
    for t in tables:
        for r in t.rows:
            if r.verdict != "不符合":
                continue
            if r.layers[:1] == ("control_unit",):  # a unit's list: say what the list names (the situation)
                req = re.sub(r"（见附图\d+）", "", r.situation).removeprefix("项目").rstrip("。")
            else:
                req = re.split(r"[，。；：:]", r.requirement)[0]
            basis = r.basis.split("；")[0].strip() or "所在环境管控单元生态环境准入清单"
            out.append(f"{req}，违反{basis}")
    return list(dict.fromkeys(out))


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


def _site_gaps(row: Mapping[str, Any], sh: Sequence[Mapping[str, Any]]) -> str:
    """Return what the package could not tell for a site ('' when nothing), from its coverage line and hits (records)."""
    cov = _s(row.get("coverage_zh"))
    parts = []
    if cov.startswith("不在分区数据范围内"):
        return "项目不在分区数据范围内，须提供所在地的分区数据"
    if "缺少：" in cov:
        parts.append("缺少" + cov.split("缺少：", 1)[1].split("；", 1)[0])
    if "在分区数据范围外" in cov:
        parts.append("部分" + "在分区数据范围外")
    zones = [h for h in sh if str(h.get("rule_id")).startswith("ZONE-")]
    if zones:
        parts.append("所在" + "、".join(dict.fromkeys(_s(h.get("feature_name")) for h in zones)) + "的管控要求未载入")
    return "；".join(parts)


def _site_conclusion(word: str, plans: list[str], tables: list[Table], gaps: str = "") -> str:
    """综上: the schemes that apply (province, city), the local plans cited, for 不符合 what is breached, and what the package could not tell."""
    docs = "、".join(plans) if plans else "所在地“三线一单”生态环境分区管控方案"
    local = _plans_cited(tables)
    if local:
        docs += f"及{'、'.join(local)}"
    pending = sum(r.verdict == PENDING for t in tables for r in t.rows)
    tail = f"上表中{pending}项须由编制单位核实填写。" if pending else ""
    if word == "不符合":
        breached = _breaches(tables)
        why = f"{'；'.join(breached)}，" if breached else ""
        return f"综上，本项目{why}选址不符合{docs}的要求，须调整选址。"
    if gaps:  # never 符合 on data the package does not hold: say what must be supplied
        return f"综上，分区数据不完整（{gaps}），本项目选址是否符合{docs}的要求无法判定，须补充上述数据和管控要求后重新筛查。{tail}"
    if word == "有条件符合":
        return f"综上，本项目在依法履行审批手续、落实上述管控条件的前提下，符合{docs}的要求。{tail}"
    if word == PENDING:
        return f"综上，本项目选址未发现违反{docs}禁止性要求的情形，须核实上述待核实事项后确定符合性。{tail}"
    return f"综上，本项目选址符合{docs}的要求。{tail}"


def _hit_feature_zh(h: pd.DataFrame, direction: Sequence[str]) -> list[str]:
    """要素 of each hit: its name inside; ``最近的“…”（距离…，方位…）`` for an outside finding."""
    out = []
    for name, code, d, way in zip(h["feature_name"].map(_s), h["feature_id"].map(_s), pd.to_numeric(h["distance_m"], errors="coerce"), direction, strict=True):  # fmt: skip
        if np.isfinite(d) and d > 0 and name:
            parts = [code] if code and code != name else []
            parts += [f"距离{distance_zh(d)}"] + ([f"方位{way}"] if way else [])
            out.append(f"最近的“{name}”（{'，'.join(parts)}）")
        else:
            out.append(name)
    return out


def _hit_table(hits: pd.DataFrame, names: Mapping[str, str], direction: Sequence[str] | None = None) -> pd.DataFrame:
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
            "要素名称": _hit_feature_zh(h, direction if direction is not None else [""] * len(h)),
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


def _fact_table(f: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
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
            "最近要素（不涉及时）": np.where(f["inside"], "", f["nearest_name"]),
            "最近要素编号": np.where(f["inside"], "", f["nearest_code"]),
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


#: Catalogue level names as the audit table prints them (a unit-level list is "单元" there).
_LEVEL_ZH = {**LEVEL_ZH, "unit": "单元"}
_FILE_COLUMNS = ["用途", "文件", "图层/版本", "SHA-256", "坐标系", "要素数"]


def _zoning_meta(zoning: Any) -> list[tuple[str, str]]:
    """Issuer, version and date of the zoning data: from its ``zoning.yaml`` manifest, else 【待填写】."""
    meta: Mapping[str, Any] = {}
    path = getattr(zoning, "path", None)
    if path is not None and PurePath(str(path)).suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            doc = load_yaml(Path(str(path)).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            doc = None
        meta = doc if isinstance(doc, Mapping) else {}

    def pick(*keys: str) -> str:
        return next((_s(meta.get(k)) for k in keys if _s(meta.get(k))), "") or TO_FILL

    return [
        ("分区数据发布机关", pick("issuer", "发布机关", "发布单位")),
        ("分区数据版本", pick("version", "版本")),
        ("分区数据发布日期", pick("date", "发布日期", "日期")),
    ]


def _audit(audit: Mapping[str, Any], rules: Any = None, zoning: Any = None) -> tuple[list[tuple[str, str]], pd.DataFrame]:
    """Audit rows and input files, with file names only (never a local path).

    Every catalogue of the rule stack and the sources registry are listed with
    version and SHA-256; the zoning's issuer/version/date come from its
    manifest or are left 【待填写】.
    """
    import hashlib

    from spatial.sources import default_sources_path

    rinfo = audit.get("rules") or {}
    sites = audit.get("sites") or {}
    as_of = _s(audit.get("as_of")) or _s(getattr(rules, "as_of", None))
    rows = [
        ("软件版本", f"ecozone {_s(audit.get('ecozone_version'))}"),
        ("分析时间", datetime_zh(audit.get("run_at", "")) or "—"),
        (
            "筛查基准日",
            as_of or f"{datetime_zh(audit.get('run_at', '')).split(' ')[0] or '—'}（未指定 --as-of，按分析当日现行依据）",
        ),
        ("工作坐标系", _s(audit.get("working_crs")) or "—"),
        (
            "规则目录",
            _s(rinfo.get("catalogue_id")) + (f"（版本 {_s(rinfo.get('version'))}）" if _s(rinfo.get("version")) else ""),
        ),
        ("规则层级", _s(rinfo.get("levels")) or "—"),
        *_zoning_meta(zoning),
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
    files = []
    levels = [lv for lv in (getattr(rules, "levels", None) or []) if lv.get("applied")]
    for lv in levels:  # every catalogue of the stack that applies here
        files.append(
            {
                "用途": f"规则目录（{_LEVEL_ZH.get(_s(lv.get('level')), _s(lv.get('level')))}）",
                "文件": _file_name(lv.get("file")),
                "图层/版本": f"版本 {_s(lv.get('version'))}" if _s(lv.get("version")) else "",
                "SHA-256": _s(lv.get("sha256")),
                "坐标系": "",
                "要素数": "",
            }
        )
    if not levels:
        files.append(
            {
                "用途": "规则目录",
                "文件": _file_name(rinfo.get("path")),
                "图层/版本": f"版本 {_s(rinfo.get('version'))}" if _s(rinfo.get("version")) else "",
                "SHA-256": _s(rinfo.get("sha256")),
                "坐标系": "",
                "要素数": "",
            }
        )
    reg = getattr(getattr(rules, "registry", None), "path", None) or default_sources_path()
    try:
        data = Path(str(reg)).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        m = re.search(rb"^\s*version:\s*['\"]?([^'\"\n]+)", data, re.MULTILINE)
        version = f"版本 {m.group(1).decode('utf-8', 'replace').strip()}" if m else "版本未标注"
    except OSError:
        digest, version = "", ""
    files.append({"用途": "依据来源登记表", "文件": PurePath(str(reg)).name, "图层/版本": version, "SHA-256": digest,
                  "坐标系": "", "要素数": ""})  # fmt: skip
    if sites:
        files.append(
            {
                "用途": "项目地块",
                "文件": _file_name(sites.get("path")),
                "图层/版本": "",
                "SHA-256": _s(sites.get("sha256")),
                "坐标系": _s(sites.get("crs")),
                "要素数": _s(sites.get("n_features")),
            }  # fmt: skip
        )
    for lst in audit.get("lists") or []:
        files.append({"用途": "准入清单", "文件": _file_name(lst.get("path")), "图层/版本": "", "SHA-256": _s(lst.get("sha256")), "坐标系": "", "要素数": ""})
    for z in audit.get("zoning") or []:
        files.append(
            {
                "用途": "分区数据",
                "文件": _file_name(z.get("path")),
                "图层/版本": _layer_zh(_s(z.get("layer"))),
                "SHA-256": _s(z.get("sha256")),
                "坐标系": _s(z.get("crs")),
                "要素数": _s(z.get("n_features")),
            }  # fmt: skip
        )
    return rows, pd.DataFrame(files, columns=_FILE_COLUMNS)


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
