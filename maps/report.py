"""The screening report a planner hands in: ``report.html`` and ``report.xlsx``.

``report.html`` is one self-contained, printable (A4) file:

1. a summary table of every site;
2. per site (each on a new page): verdict badge, location and size, a
   涉及/不涉及 table for every zoning layer, every hit with 规则/依据/面积/长度/距离,
   and for every control unit the site touches the 逐项对照 table EIA reviewers
   ask for: one row per 准入清单 dimension (空间布局约束 / 污染物排放管控 /
   环境风险防控 / 资源开发效率要求) with the requirement text, an empty 项目情况
   column for the planner and a 符合性结论 column (``禁止`` where the unit's
   禁止类 bans the project type, ``待核实`` otherwise), plus a static SVG map;
3. the indicators table (when given);
4. an audit block: input files with SHA-256, CRS and feature counts, rule
   catalogue id and hash, ecozone version, run time.

``report.xlsx`` holds the same tables, one sheet each (汇总, 命中, 管控单元对照,
涉及情况, 指标, 审计).  Both are written atomically (temp file + rename).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup
from pyproj import CRS

from layers import REGISTRY
from layers.control_unit import CATEGORY_ZH, DIMENSIONS
from maps import style as st
from maps.static_map import site_map_svg
from spatial.crs import WGS84, to_crs_geoms
from spatial.io import atomic_output, ensure_writable
from spatial.output import user_columns
from spatial.zoning import display_path

__all__ = ["write_report", "report_tables", "render_report_html", "PENDING_ZH", "REPORT_TITLE"]

REPORT_TITLE = "项目选址生态环境分区管控符合性分析报告"
#: Conclusion prefilled where the planner must check the project against the text.
PENDING_ZH = "待核实"
_FONT_STACK = '"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","SimSun",sans-serif'
_GEOM_ZH = {0: "点", 1: "线", 2: "面"}
_STATUS_ZH = {"met": "达标", "not_met": "未达标", "no_target": "无目标", "unknown": "未评估"}


# --------------------------------------------------------------------------- formatting


def _blank(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _s(v: Any) -> str:
    if _blank(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _f(v: Any, digits: int = 1) -> str:
    x = _num(v)
    return "—" if x is None else f"{x:,.{digits}f}"


def _layer_zh(name: str) -> str:
    spec = REGISTRY.get(name)
    return st.layer_label(name, spec)[0]


def _key_label(key: str) -> str:
    layer = key.split(":", 1)[0]
    cs = st.CLASS_STYLES.get(key)
    if cs is None:
        return _layer_zh(layer)
    if ":" not in key or layer == "control_unit" or cs.label_zh.startswith(_layer_zh(layer)):
        return cs.label_zh
    return f"{_layer_zh(layer)}·{cs.label_zh}"


def _rows(frame: Any, site_col: str = "site_id") -> dict[str, pd.DataFrame]:
    if frame is None or not len(frame) or site_col not in frame:
        return {}
    f = pd.DataFrame(frame)
    return {str(k): g for k, g in f.groupby(f[site_col].astype(str), sort=False)}


def _banned_rule_ids(result: Any) -> set[str]:
    rules = getattr(result, "rules", None)
    ids = {r.id for r in rules if getattr(r, "mode", None) == "unit_prohibited"} if rules is not None else set()
    return ids or {"CU-BANNED"}


# --------------------------------------------------------------------------- tables


def report_tables(result: Any, indicators: Any = None) -> dict[str, pd.DataFrame]:
    """Build the report's tables (also the XLSX sheets), with Chinese column names.

    Parameters
    ----------
    result : ScreeningResult
        Screening output (``sites``, ``hits``, ``units``, ``layer_status``, ``audit``).
    indicators : DataFrame or IndicatorTable, optional
        Columns ``indicator, label_zh, value, unit, target, status`` (``area_name`` optional).

    Returns
    -------
    dict of str to DataFrame
        ``汇总``, ``命中``, ``管控单元对照``, ``涉及情况``, ``指标`` (when given), ``审计``.
    """
    sites = result.sites
    ids = sites["site_id"].astype(str).tolist()
    names = _site_names(sites)
    name_of = dict(zip(ids, names, strict=True))
    status = getattr(result, "layer_status", None)
    involved = _involved_layers(status)
    lonlat = _lonlat(sites)
    dims = shapely.get_dimensions(np.asarray(sites.geometry.values, dtype=object))
    summary = pd.DataFrame(
        {
            "序号": range(1, len(sites) + 1),
            "地块编号": ids,
            "名称": names,
            "项目类型": [st.project_type_zh(v) for v in _col(sites, "project_type")],
            "项目类型代码": [_s(v) for v in _col(sites, "project_type")],
            "结论": [_s(v) or st.VERDICT_ZH.get(_s(k), "") for v, k in zip(_col(sites, "verdict_zh"), _col(sites, "verdict"), strict=True)],
            "结论代码": [_s(v) for v in _col(sites, "verdict")],
            "命中规则数": [int(_num(v) or 0) for v in _col(sites, "n_hits")],
            "涉及图层": [involved.get(i, "") for i in ids],
            "摘要": [_s(v) for v in _col(sites, "summary_zh")],
            "几何类型": [_GEOM_ZH.get(int(d), "") for d in dims],
            "面积(m²)": _measure(sites, "area_m2", dims == 2, shapely.area),
            "长度(m)": _measure(sites, "length_m", dims == 1, shapely.length),
            "经度": [round(x, 6) for x, _ in lonlat],
            "纬度": [round(y, 6) for _, y in lonlat],
        }
    )
    for c in user_columns(sites):  # the planner's own columns (建设单位, 投资 …), unchanged
        summary[c if c not in summary.columns else f"{c}（原表）"] = sites[c].to_numpy()
    hits = pd.DataFrame(getattr(result, "hits", None) if getattr(result, "hits", None) is not None else [])
    hit_rows = []
    for h in hits.to_dict("records") if len(hits) else []:
        m2 = _num(h.get("overlap_m2"))
        hit_rows.append(
            {
                "地块编号": _s(h.get("site_id")),
                "地块名称": name_of.get(_s(h.get("site_id")), ""),
                "规则": _s(h.get("rule_id")),
                "图层": _layer_zh(_s(h.get("layer"))),
                "要素编号": _s(h.get("feature_id")),
                "要素名称": _s(h.get("feature_name")),
                "结论": st.VERDICT_ZH.get(_s(h.get("verdict")), _s(h.get("verdict"))),
                "重叠面积(m²)": m2,
                "重叠面积(公顷)": None if m2 is None else m2 / 10_000,
                "占地块%": _num(h.get("overlap_pct")),
                "长度(m)": _num(h.get("length_m")),
                "距离(m)": _num(h.get("distance_m")),
                "依据": _s(h.get("basis")),
                "说明": _s(h.get("message_zh")),
            }
        )
    hit_cols = ["地块编号", "地块名称", "规则", "图层", "要素编号", "要素名称", "结论", "重叠面积(m²)", "重叠面积(公顷)",
                "占地块%", "长度(m)", "距离(m)", "依据", "说明"]  # fmt: skip
    tables: dict[str, pd.DataFrame] = {"汇总": summary, "命中": pd.DataFrame(hit_rows, columns=hit_cols)}

    unit_rows = []
    for u in _unit_checklist(result):
        for d in u["rows"]:
            unit_rows.append(
                {
                    "地块编号": u["site_id"],
                    "地块名称": name_of.get(u["site_id"], ""),
                    "单元编码": u["code"],
                    "单元名称": u["name"],
                    "单元类别": u["category_zh"],
                    "禁止类": u["prohibited"],
                    "管控维度": d["dimension"],
                    "管控要求": d["text"],
                    "项目情况": "",
                    "符合性结论": d["conclusion"],
                }
            )
    unit_cols = ["地块编号", "地块名称", "单元编码", "单元名称", "单元类别", "禁止类", "管控维度", "管控要求", "项目情况", "符合性结论"]
    tables["管控单元对照"] = pd.DataFrame(unit_rows, columns=unit_cols)

    srows = []
    if status is not None and len(status):
        for r in pd.DataFrame(status).to_dict("records"):
            srows.append(
                {
                    "地块编号": _s(r.get("site_id")),
                    "地块名称": name_of.get(_s(r.get("site_id")), ""),
                    "图层": _s(r.get("label_zh")) or _layer_zh(_s(r.get("layer"))),
                    "情况": _s(r.get("status_zh")) or ("涉及" if r.get("involved") else "不涉及"),
                    "涉及要素": _s(r.get("features")),
                }
            )
    tables["涉及情况"] = pd.DataFrame(srows, columns=["地块编号", "地块名称", "图层", "情况", "涉及要素"])
    ind = _indicator_frame(indicators)
    if ind is not None:
        tables["指标"] = ind
    tables["审计"] = _audit_frame(getattr(result, "audit", {}) or {})
    return tables


def _col(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame else [None] * len(frame)


def _site_names(sites: pd.DataFrame) -> list[str]:
    ids = sites["site_id"].astype(str).tolist()
    return [_s(n) or i for n, i in zip(_col(sites, "name"), ids, strict=True)]


def _measure(sites: Any, col: str, mask: np.ndarray, fn: Any) -> list[float | None]:
    if col in sites:
        vals = pd.to_numeric(sites[col], errors="coerce").to_numpy(dtype=float)
    else:
        vals = fn(np.asarray(sites.geometry.values, dtype=object))
    return [round(float(v), 1) if m and np.isfinite(v) else None for v, m in zip(vals, mask, strict=True)]


def _lonlat(sites: Any) -> list[tuple[float, float]]:
    if not len(sites):
        return []
    pts = shapely.point_on_surface(np.asarray(sites.geometry.values, dtype=object))
    if sites.crs is not None:
        pts = to_crs_geoms(pts, CRS.from_user_input(sites.crs), WGS84)
    return list(zip(shapely.get_x(pts).tolist(), shapely.get_y(pts).tolist(), strict=True))


def _involved_layers(status: Any) -> dict[str, str]:
    if status is None or not len(status):
        return {}
    f = pd.DataFrame(status)
    f = f[f["involved"].astype(bool)]
    return {str(k): "、".join(g["label_zh"].astype(str)) for k, g in f.groupby(f["site_id"].astype(str), sort=False)}


def _unit_checklist(result: Any) -> list[dict[str, Any]]:
    """Per (site, touched unit): header facts and one row per 准入清单 dimension."""
    units = getattr(result, "units", None)
    if units is None or not len(units):
        return []
    hits = getattr(result, "hits", None)
    banned_ids = _banned_rule_ids(result)
    banned: set[tuple[str, str]] = set()
    if hits is not None and len(hits):
        bh = pd.DataFrame(hits)
        bh = bh[bh["rule_id"].astype(str).isin(banned_ids)]
        for r in bh.to_dict("records"):
            banned.add((_s(r.get("site_id")), _s(r.get("feature_id"))))
            banned.add((_s(r.get("site_id")), "name:" + _s(r.get("feature_name"))))
    types = {}
    if "project_type" in result.sites:
        types = dict(zip(result.sites["site_id"].astype(str), result.sites["project_type"], strict=True))
    out = []
    for u in pd.DataFrame(units).to_dict("records"):
        sid, code, name = _s(u.get("site_id")), _s(u.get("code")), _s(u.get("name"))
        is_banned = (sid, code) in banned or (sid, "name:" + name) in banned
        ptype = st.project_type_zh(types.get(sid))
        rows = []
        general = _s(u.get("requirements"))
        if general:
            rows.append({"dimension": "综合准入要求", "text": general, "conclusion": PENDING_ZH})
        for key, label in DIMENSIONS.items():
            text = _s(u.get(key))
            if key == "spatial_layout" and is_banned:
                conclusion = f"禁止（项目类型“{ptype}”列入本单元禁止类）" if ptype else "禁止（列入本单元禁止类）"
            else:
                conclusion = PENDING_ZH if text else "—（未提供管控要求）"
            rows.append({"dimension": label, "text": text or "（未提供）", "conclusion": conclusion})
        overlap = []
        if (m2 := _num(u.get("overlap_m2"))) is not None and m2 > 0:
            pct = _num(u.get("overlap_pct"))
            overlap.append(f"重叠 {m2 / 10_000:,.2f} 公顷" + (f"（占地块 {pct:.1f}%）" if pct is not None else ""))
        if (ln := _num(u.get("length_m"))) is not None and ln > 0:
            overlap.append(f"长度 {ln:,.1f} m")
        out.append(
            {
                "site_id": sid,
                "code": code,
                "name": name,
                "category": _s(u.get("category")),
                "category_zh": CATEGORY_ZH.get(_s(u.get("category")), _s(u.get("category"))),
                "prohibited": _s(u.get("prohibited")),
                "banned": is_banned,
                "overlap": "；".join(overlap) or "位于单元内",
                "rows": rows,
            }
        )
    return out


def _indicator_frame(indicators: Any) -> pd.DataFrame | None:
    if indicators is None:
        return None
    frame = getattr(indicators, "frame", indicators)
    if not isinstance(frame, pd.DataFrame) or not len(frame):
        return None
    cols = {"area_name": "范围", "indicator": "指标代码", "label_zh": "指标", "value": "数值", "unit": "单位",
            "target": "目标", "status": "状态"}  # fmt: skip
    keep = [c for c in cols if c in frame]
    out = frame[keep].rename(columns=cols).copy()
    if "状态" in out:
        out["状态"] = [_STATUS_ZH.get(_s(v), _s(v)) for v in out["状态"]]
    return out.reset_index(drop=True)


def _audit_frame(audit: Mapping[str, Any]) -> pd.DataFrame:
    rows = [
        ("ecozone 版本", _s(audit.get("ecozone_version"))),
        ("运行时间", _s(audit.get("run_at"))),
        ("耗时(秒)", _s(audit.get("duration_s"))),
        ("工作坐标系", _s(audit.get("working_crs"))),
        ("数据警告", "；".join(_s(w) for w in audit.get("warnings") or []) or "—"),
    ]
    rules = audit.get("rules") or {}
    rows += [
        ("规则目录", _s(rules.get("catalogue_id")) + (f"（版本 {_s(rules.get('version'))}）" if _s(rules.get("version")) else "")),
        ("规则目录 SHA-256", _s(rules.get("sha256"))),
        ("规则文件", _s(rules.get("path"))),
    ]
    sites = audit.get("sites") or {}
    if sites:
        rows += [
            ("地块文件", _s(sites.get("path"))),
            ("地块文件 SHA-256", _s(sites.get("sha256"))),
            ("地块坐标系", _s(sites.get("crs"))),
            ("地块数", _s(sites.get("n_features"))),
        ]
    frame = pd.DataFrame(rows, columns=["项目", "内容"])
    zon = pd.DataFrame(list(audit.get("zoning") or []))
    if len(zon):
        zon = zon.rename(columns={"layer": "图层", "path": "文件", "sha256": "SHA-256", "crs": "坐标系", "n_features": "要素数"})
        zon.insert(1, "图层名称", [_layer_zh(_s(v)) for v in zon["图层"]])
        frame = pd.concat([frame, pd.DataFrame([{"项目": "", "内容": ""}]), _as_kv(zon)], ignore_index=True)
    return frame


def _as_kv(zon: pd.DataFrame) -> pd.DataFrame:
    """Zoning sources as 项目/内容 rows (one sheet, two columns)."""
    rows = []
    for r in zon.to_dict("records"):
        rows.append({"项目": f"分区图层 {r.get('图层', '')}（{r.get('图层名称', '')}）",
                     "内容": f"{_s(r.get('文件'))} | SHA-256 {_s(r.get('SHA-256'))} | {_s(r.get('坐标系'))} | "
                             f"{_s(r.get('要素数'))} 个要素"})  # fmt: skip
    return pd.DataFrame(rows, columns=["项目", "内容"])


# --------------------------------------------------------------------------- HTML


def _site_sections(result: Any) -> list[dict[str, Any]]:
    sites = result.sites
    hits = getattr(result, "hits", None)
    by_hits = _rows(hits)
    by_status = _rows(getattr(result, "layer_status", None))
    checklist = _unit_checklist(result)
    by_units: dict[str, list[dict[str, Any]]] = {}
    for u in checklist:
        by_units.setdefault(u["site_id"], []).append(u)
    zoning = getattr(result, "zoning", None)
    lonlat = _lonlat(sites)
    dims = shapely.get_dimensions(np.asarray(sites.geometry.values, dtype=object))
    own = user_columns(sites)
    out = []
    for i, row in enumerate(sites.to_dict("records")):
        sid = _s(row.get("site_id"))
        verdict = _s(row.get("verdict"))
        geom = row.get(sites.geometry.name)
        h = by_hits.get(sid)
        hit_list = []
        overlaps = []
        if h is not None:
            for r in h.to_dict("records"):
                m2 = _num(r.get("overlap_m2"))
                hit_list.append(
                    {
                        "rule_id": _s(r.get("rule_id")),
                        "layer": _layer_zh(_s(r.get("layer"))),
                        "feature": _s(r.get("feature_name")) or _s(r.get("feature_id")),
                        "feature_id": _s(r.get("feature_id")),
                        "verdict": _s(r.get("verdict")),
                        "verdict_zh": st.VERDICT_ZH.get(_s(r.get("verdict")), _s(r.get("verdict"))),
                        "basis": _s(r.get("basis")),
                        "area": "—" if m2 is None or m2 <= 0 else f"{m2:,.1f} / {m2 / 10_000:,.2f}",
                        "pct": _f(r.get("overlap_pct")),
                        "length": _f(r.get("length_m")),
                        "distance": _f(r.get("distance_m")),
                        "message": _s(r.get("message_zh")),
                    }
                )
                g = r.get("geometry")
                if isinstance(g, shapely.Geometry):
                    overlaps.append((g, _s(r.get("verdict"))))
        status = []
        s = by_status.get(sid)
        if s is not None:
            for r in s.to_dict("records"):
                status.append(
                    {
                        "label": _s(r.get("label_zh")) or _layer_zh(_s(r.get("layer"))),
                        "involved": bool(r.get("involved")),
                        "status": _s(r.get("status_zh")) or ("涉及" if r.get("involved") else "不涉及"),
                        "features": _s(r.get("features")),
                    }
                )
        svg, legend = Markup(""), []
        if zoning is not None and isinstance(geom, shapely.Geometry) and not geom.is_empty:
            sm = site_map_svg(zoning, geom, overlaps=overlaps, verdict=verdict or None, label=_s(row.get("name")) or sid)
            svg = Markup(sm.svg)
            legend = [(Markup(st.swatch_html(st.CLASS_STYLES[k])), _key_label(k)) for k in sm.keys if k in st.CLASS_STYLES]
        d = int(dims[i]) if len(dims) else -1
        size = ""
        if d == 2:
            a = _num(row.get("area_m2")) or float(shapely.area(geom))
            size = f"面积 {a:,.1f} m²（{a / 10_000:,.2f} 公顷）"
        elif d == 1:
            ln = _num(row.get("length_m")) or float(shapely.length(geom))
            size = f"长度 {ln:,.1f} m"
        ptype = _s(row.get("project_type"))
        out.append(
            {
                "n": i + 1,
                "id": sid,
                "name": _s(row.get("name")) or sid,
                "ptype": ptype,
                "ptype_zh": st.project_type_zh(ptype),
                "ptype_raw": _s(row.get("project_type_raw")),
                "verdict": verdict,
                "verdict_zh": _s(row.get("verdict_zh")) or st.VERDICT_ZH.get(verdict, "未判定"),
                "colour": st.VERDICT_COLOURS.get(verdict, st.UNSCREENED_COLOUR),
                "n_hits": int(_num(row.get("n_hits")) or 0),
                "summary": _s(row.get("summary_zh")),
                "geom": _GEOM_ZH.get(d, ""),
                "size": size,
                "lon": f"{lonlat[i][0]:.6f}" if lonlat else "",
                "lat": f"{lonlat[i][1]:.6f}" if lonlat else "",
                "status": status,
                "hits": hit_list,
                "units": by_units.get(sid, []),
                "svg": svg,
                "legend": legend,
                "attrs": [(c, _s(row.get(c))) for c in own if not _blank(row.get(c))],
            }
        )
    return out


def render_report_html(result: Any, indicators: Any = None, *, tables: Mapping[str, pd.DataFrame] | None = None) -> str:
    """Render ``report.html`` as a string.

    Parameters
    ----------
    result : ScreeningResult
        Screening output.
    indicators : DataFrame or IndicatorTable, optional
        Indicator rows (see :func:`report_tables`).
    tables : mapping, optional
        Precomputed :func:`report_tables` output.

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    tables = tables if tables is not None else report_tables(result, indicators)
    sites = _site_sections(result)
    counts = {v: sum(1 for s in sites if s["verdict"] == v) for v in st.VERDICT_ORDER}
    audit = getattr(result, "audit", {}) or {}
    zoning = getattr(result, "zoning", None)
    zpath = display_path(getattr(zoning, "path", None)) if zoning is not None else ""
    ind = tables.get("指标")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _f
    tpl = env.from_string(_TEMPLATE)
    return tpl.render(
        title=REPORT_TITLE,
        css=Markup(_CSS),
        sites=sites,
        counts=counts,
        verdict_zh=st.VERDICT_ZH,
        colours=st.VERDICT_COLOURS,
        order=st.VERDICT_ORDER,
        summary=tables["汇总"].to_dict("records"),
        indicators=None if ind is None else {"columns": list(ind.columns), "rows": ind.to_dict("records")},
        audit=audit,
        audit_rules=audit.get("rules") or {},
        audit_zoning=[dict(z, label=_layer_zh(_s(z.get("layer")))) for z in (audit.get("zoning") or [])],
        audit_sites=audit.get("sites") or {},
        zoning_path=zpath,
        generated=datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        pending=PENDING_ZH,
    )


def write_report(result: Any, out_dir: str | os.PathLike[str], *, indicators: Any = None, force: bool = False) -> dict[str, Path]:
    """Write ``report.html`` and ``report.xlsx`` into ``out_dir``.

    Parameters
    ----------
    result : ScreeningResult
        Screening output (``sites``, ``hits``, ``units``, ``layer_status``,
        ``audit``, ``zoning``, ``rules``).
    out_dir : path-like
        Directory (created if needed).
    indicators : DataFrame or IndicatorTable, optional
        Columns ``indicator, label_zh, value, unit, target, status``; adds an
        indicators section and sheet.
    force : bool, default False
        Overwrite existing reports.

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "xlsx": ...}``.

    Raises
    ------
    OutputExistsError
        A report exists and ``force`` is False (checked before anything is written).
    """
    out = Path(out_dir)
    paths = {"html": out / "report.html", "xlsx": out / "report.xlsx"}
    ensure_writable(list(paths.values()), force)
    tables = report_tables(result, indicators)
    text = render_report_html(result, indicators, tables=tables)
    with atomic_output(paths["html"], force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    with atomic_output(paths["xlsx"], force=force) as tmp:
        _write_xlsx(tmp, tables)
    return paths


_WIDTHS = {"摘要": 60, "依据": 50, "说明": 40, "管控要求": 70, "项目情况": 30, "符合性结论": 22, "内容": 110, "项目": 28,
           "涉及要素": 40, "涉及图层": 30, "名称": 26, "地块名称": 26, "单元名称": 24, "要素名称": 24, "禁止类": 24}  # fmt: skip


def _write_xlsx(path: Path, tables: Mapping[str, pd.DataFrame]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in tables.items():
            frame.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"
            head = PatternFill("solid", fgColor="DDE6F0")
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.fill = head
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            for j, col in enumerate(frame.columns, start=1):
                letter = ws.cell(row=1, column=j).column_letter
                width = _WIDTHS.get(str(col), max(10, min(20, len(str(col)) * 2 + 2)))
                ws.column_dimensions[letter].width = width
                if width >= 24:
                    for cell in ws[letter][1:]:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")


_CSS = (
    "@page{size:A4;margin:15mm;}"
    f"body{{font-family:{_FONT_STACK};font-size:10.5pt;line-height:1.5;color:#222;margin:0 auto;max-width:190mm;}}"
    "@media screen{body{padding:16px 20px;}}"
    "h1{font-size:18pt;text-align:center;margin:8px 0 4px;}"
    "h2{font-size:14pt;border-bottom:2px solid #444;padding-bottom:2px;margin:18px 0 8px;}"
    "h3{font-size:11.5pt;margin:12px 0 4px;}"
    ".meta{text-align:center;color:#555;font-size:9.5pt;margin-bottom:10px;}"
    "table{border-collapse:collapse;width:100%;margin:4px 0 10px;font-size:9pt;}"
    ".summary{table-layout:fixed;}.summary td{word-break:break-word;}"
    "th,td{border:1px solid #999;padding:3px 5px;vertical-align:top;text-align:left;}"
    "th{background:#eef2f6;font-weight:600;}"
    "thead{display:table-header-group;}"
    "tr{break-inside:avoid;page-break-inside:avoid;}"
    "td.num{text-align:right;white-space:nowrap;}td.id{white-space:nowrap;}"
    ".badge{display:inline-block;color:#fff;border-radius:3px;padding:0 7px;font-weight:600;white-space:nowrap;"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact;}"
    ".badge.big{font-size:12pt;padding:2px 12px;}"
    ".site{break-before:page;page-break-before:always;}"
    ".site h2 .badge{margin-left:8px;vertical-align:middle;}"
    ".facts td:first-child,.facts th{width:22mm;}"
    ".no{color:#777;}.yes{font-weight:600;color:#b30000;}"
    ".planner{min-width:28mm;background:#fffdf0;-webkit-print-color-adjust:exact;print-color-adjust:exact;}"
    ".unit-head{margin:8px 0 2px;font-size:9.5pt;}"
    ".banned{color:#b30000;font-weight:600;}"
    ".map{display:flex;gap:10px;align-items:flex-start;break-inside:avoid;page-break-inside:avoid;margin:6px 0;}"
    ".map svg{flex:none;max-width:100%;height:auto;}"
    ".map ul{list-style:none;margin:0;padding:0;font-size:8.5pt;}"
    ".map li{display:flex;align-items:center;gap:4px;}"
    ".audit td{word-break:break-all;font-size:8.5pt;}"
    ".note{color:#555;font-size:9pt;}"
    ".verdicts span{margin-right:10px;}"
    "svg text{font-family:" + _FONT_STACK.replace('"', "'") + ";}"
)

_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<h1>{{ title }}</h1>
<div class="meta">分区数据：{{ zoning_path or "—" }}　｜　规则目录：{{ audit_rules.get("catalogue_id", "—") }}　｜　运行时间：{{ audit.get("run_at", "—") }}　｜　ecozone {{ audit.get("ecozone_version", "") }}</div>

{% for w in audit.get("warnings") or [] %}<p class="warn" style="color:#b00020;font-weight:bold;">⚠ {{ w }}</p>
{% endfor %}<h2>一、选址结论汇总</h2>
<p class="verdicts">共 {{ sites|length }} 处：
{% for v in order %}<span><span class="badge" style="background:{{ colours[v] }}">{{ verdict_zh[v] }}</span> {{ counts[v] }} 处</span>{% endfor %}
</p>
<table class="summary">
<thead><tr><th style="width:7mm">序号</th><th style="width:15mm">编号</th><th style="width:26mm">名称</th><th style="width:20mm">项目类型</th><th style="width:11mm">结论</th><th style="width:9mm">命中</th><th style="width:26mm">涉及图层</th><th>摘要</th></tr></thead>
<tbody>
{% for r in summary %}
<tr data-site="{{ r['地块编号'] }}"><td class="num">{{ r['序号'] }}</td><td class="id">{{ r['地块编号'] }}</td><td>{{ r['名称'] }}</td><td>{{ r['项目类型'] }}</td>
<td><span class="badge" style="background:{{ colours.get(r['结论代码'], '#6a3d9a') }}">{{ r['结论'] or '未判定' }}</span></td>
<td class="num">{{ r['命中规则数'] }}</td><td>{{ r['涉及图层'] or '—' }}</td><td>{{ r['摘要'] }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="note">结论等级：禁止 &gt; 限制 &gt; 关注 &gt; 符合，取命中规则中最严格者。“{{ pending }}”表示须由编制单位对照项目实际情况逐项核实。</p>

{% for s in sites %}
<section class="site" id="site-{{ s.id }}" data-site="{{ s.id }}">
{% if loop.first %}<h2>二、逐个地块分析</h2>{% endif %}
<h2>{{ s.n }}. {{ s.id }} {{ s.name }}<span class="badge big" data-verdict="{{ s.verdict }}" style="background:{{ s.colour }}">{{ s.verdict_zh }}</span></h2>
<table class="facts">
<tr><th>地块编号</th><td>{{ s.id }}</td><th>项目类型</th><td>{{ s.ptype_zh }}{% if s.ptype and s.ptype != s.ptype_zh %}（{{ s.ptype }}）{% endif %}{% if s.ptype_raw and s.ptype_raw != s.ptype_zh %}；原填写：{{ s.ptype_raw }}{% endif %}</td></tr>
<tr><th>几何</th><td>{{ s.geom }}{% if s.size %}，{{ s.size }}{% endif %}</td><th>位置</th><td>{{ s.lon }}, {{ s.lat }}（WGS84 经度, 纬度）</td></tr>
<tr><th>结论</th><td colspan="3"><b>{{ s.verdict_zh }}</b>；命中规则 {{ s.n_hits }} 条。{{ s.summary }}</td></tr>
{% if s.attrs %}<tr><th>项目信息</th><td colspan="3" class="attrs">{% for k, v in s.attrs %}{{ k }}：{{ v }}{% if not loop.last %}；{% endif %}{% endfor %}</td></tr>{% endif %}
</table>
{% if s.svg %}
<div class="map">{{ s.svg }}<ul>{% for sw, label in s.legend %}<li>{{ sw }}{{ label }}</li>{% endfor %}</ul></div>
{% endif %}

<h3>（一）分区涉及情况</h3>
<table class="status">
<thead><tr><th>分区图层</th><th>涉及情况</th><th>涉及要素</th></tr></thead>
<tbody>
{% for r in s.status %}
<tr><td>{{ r.label }}</td><td class="{{ 'yes' if r.involved else 'no' }}">{{ r.status }}</td><td>{{ r.features or '—' }}</td></tr>
{% else %}
<tr><td colspan="3">（无分区图层信息）</td></tr>
{% endfor %}
</tbody>
</table>

<h3>（二）命中规则</h3>
{% if s.hits %}
<table class="hits">
<thead><tr><th>规则</th><th>图层</th><th>要素</th><th>结论</th><th>依据</th><th>重叠面积 (m²/公顷)</th><th>占地块%</th><th>长度(m)</th><th>距离(m)</th><th>说明</th></tr></thead>
<tbody>
{% for h in s.hits %}
<tr data-rule="{{ h.rule_id }}"><td>{{ h.rule_id }}</td><td>{{ h.layer }}</td><td>{{ h.feature }}{% if h.feature_id and h.feature_id != h.feature %}<br><small>{{ h.feature_id }}</small>{% endif %}</td>
<td><span class="badge" style="background:{{ colours.get(h.verdict, '#777') }}">{{ h.verdict_zh }}</span></td>
<td>{{ h.basis }}</td><td class="num">{{ h.area }}</td><td class="num">{{ h.pct }}</td><td class="num">{{ h.length }}</td><td class="num">{{ h.distance }}</td><td>{{ h.message }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p>未命中任何管控规则。</p>
{% endif %}

<h3>（三）环境管控单元生态环境准入清单逐项对照</h3>
{% for u in s.units %}
<div class="unit-head" data-unit="{{ u.code }}"><b>{{ u.code }} {{ u.name }}</b>（{{ u.category_zh }}；{{ u.overlap }}）{% if u.prohibited %}　禁止类：<span class="{{ 'banned' if u.banned else '' }}">{{ u.prohibited }}</span>{% endif %}{% if u.banned %}　<span class="banned">项目类型列入禁止类</span>{% endif %}</div>
<table class="checklist">
<thead><tr><th style="width:18mm">管控维度</th><th>管控要求</th><th style="width:32mm">项目情况</th><th style="width:26mm">符合性结论</th></tr></thead>
<tbody>
{% for d in u.rows %}
<tr><td>{{ d.dimension }}</td><td>{{ d.text }}</td><td class="planner"></td><td{% if d.conclusion.startswith('禁止') %} class="banned"{% endif %}>{{ d.conclusion }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p>未涉及环境管控单元（或分区数据中无管控单元图层）。</p>
{% endfor %}
</section>
{% endfor %}

{% if indicators %}
<section class="site" id="indicators">
<h2>三、生态空间指标</h2>
<table class="indicators">
<thead><tr>{% for c in indicators.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in indicators.rows %}
<tr>{% for c in indicators.columns %}<td{% if c == '数值' %} class="num"{% endif %}>{% if c == '数值' %}{{ r[c]|fmt(2) }}{% else %}{{ r[c] if r[c] is not none else '' }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
</section>
{% endif %}

<section class="site" id="audit">
<h2>{{ '四' if indicators else '三' }}、审计信息（可追溯、可复现）</h2>
<table class="audit">
<tr><th style="width:40mm">ecozone 版本</th><td>{{ audit.get("ecozone_version", "—") }}</td></tr>
<tr><th>运行时间</th><td>{{ audit.get("run_at", "—") }}（耗时 {{ audit.get("duration_s", "—") }} 秒）</td></tr>
<tr><th>报告生成时间</th><td>{{ generated }}</td></tr>
<tr><th>工作坐标系</th><td>{{ audit.get("working_crs", "—") }}</td></tr>
<tr><th>规则目录</th><td>{{ audit_rules.get("catalogue_id", "—") }}{% if audit_rules.get("version") %}（版本 {{ audit_rules.get("version") }}）{% endif %}<br>SHA-256：{{ audit_rules.get("sha256", "—") }}<br>{{ audit_rules.get("path", "") }}</td></tr>
{% if audit_sites %}
<tr><th>地块文件</th><td>{{ audit_sites.get("path", "—") }}<br>SHA-256：{{ audit_sites.get("sha256") or "—" }}<br>坐标系：{{ audit_sites.get("crs", "—") }}；要素数：{{ audit_sites.get("n_features", "—") }}</td></tr>
{% endif %}
</table>
<h3>分区数据输入文件</h3>
<table class="audit">
<thead><tr><th>图层</th><th>文件</th><th>SHA-256</th><th>坐标系</th><th>要素数</th></tr></thead>
<tbody>
{% for z in audit_zoning %}
<tr><td>{{ z.label }}<br><small>{{ z.get("layer", "") }}</small></td><td>{{ z.get("path", "") }}</td><td>{{ z.get("sha256", "") }}</td><td>{{ z.get("crs", "") }}</td><td class="num">{{ z.get("n_features", "") }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="note">本报告由 ecozone 根据上述输入自动生成；面积为 CGCS2000 椭球面积或工作坐标系平面量算值，结论供编制与审查参考，须由专业人员结合项目实际核实。</p>
</section>
</body>
</html>
"""
