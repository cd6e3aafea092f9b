"""An access list's clauses as unit-level rules, and the bureau's corrections of their parse.

:func:`parse_list` splits every requirement cell of a :class:`~spatial.lists.UnitList`
into clauses and reads each (:mod:`spatial.clauses`), applying the overrides
file when given.  :func:`attach_lists` turns the clauses into rules on the
``control_unit`` layer and adds them to a :class:`~spatial.rules.RuleSet`:

* a parsed clause: a rule for exactly the types it names, with its verdict;
* any other clause: a 待核实 rule for every type — never dropped;

each quoting the clause verbatim, citing the list's scheme (title and 文号
from the sources registry, or 待核实) with the sheet, cell and column, and
applying where the row applies: its unit (by code), its category, the
units of the region it names, or every unit (全市总体管控要求).
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from layers.control_unit import CATEGORY_ZH
from spatial.clauses import clauses_in_context, parse_clause
from spatial.errors import DataWarning, InputError, RuleError
from spatial.io import load_yaml
from spatial.lists import DIMENSION_ZH, UnitList, read_list
from spatial.project_types import VERDICT_EIA, VERDICT_ZH, VERDICTS, ProjectTypes, label_zh, verdict_rank
from spatial.rules import Rule, RuleSet
from spatial.sources import Ref, SourceRegistry, default_registry

__all__ = [
    "CLAUSE_COLUMNS",
    "types_zh",
    "parse_list",
    "read_overrides",
    "scheme_citation",
    "list_rules",
    "attach_lists",
    "list_coverage",
    "audit_record",
    "manifest_lists",
    "attach_manifest_lists",
]

#: Columns of the clause table (:func:`parse_list`).
CLAUSE_COLUMNS = [
    "clause_id", "sheet", "cell", "row", "column", "scope", "scope_value", "code", "name", "category", "dimension",
    "header", "anchor", "n", "text", "modality", "verdict", "types", "terms", "conditions", "parsed", "reason", "override",
]  # fmt: skip
_OVERRIDE_KEYS = {"clause", "clause_id", "types", "verdict", "conditions", "note"}
_CSV_ALIASES = {
    "clause": ("clause", "clause_id", "条款编号", "条款", "编号"),
    "types": ("types", "项目类型", "类型"),
    "verdict": ("verdict", "结论", "情态"),
    "conditions": ("conditions", "条件"),
    "note": ("note", "说明", "备注", "理由"),
}


def types_zh(types: Iterable[str]) -> str:
    """Return the Chinese names of canonical types joined with 、 (``all``: 全部类型).

    Parameters
    ----------
    types : iterable of str
        Canonical types.

    Returns
    -------
    str
        E.g. ``化工、电镀``.
    """
    return "、".join("全部类型" if t == "all" else label_zh(t) for t in types)


def read_overrides(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read a bureau's corrections of clause parses (YAML or CSV).

    YAML: a mapping ``clause_id: {types, verdict, conditions, note}`` or a list of
    mappings with ``clause``; CSV: columns 条款编号 (clause), 项目类型 (types,
    separated by 、;,), 结论 (verdict), 条件 (conditions), 说明 (note).

    Parameters
    ----------
    path : path-like
        The overrides file.

    Returns
    -------
    dict
        Clause id -> correction (``types`` list or None, ``verdict`` or None,
        ``conditions``, ``note``, ``where``: file and entry for messages).

    Raises
    ------
    InputError
        Missing file, unknown keys or an entry without a clause id.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"找不到清单解析更正文件：{p}", f"overrides file not found: {p}")
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if p.suffix.lower() == ".csv":
        with p.open(encoding="utf-8-sig", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                norm = {}
                for key, aliases in _CSV_ALIASES.items():
                    norm[key] = next((row[a] for a in aliases if a in row and row[a] not in (None, "")), None)
                if norm["types"]:
                    norm["types"] = [
                        t
                        for t in str(norm["types"]).replace("；", "、").replace(";", "、").replace(",", "、").split("、")
                        if t.strip()
                    ]
                entries.append((f"{p.name} 第 {i} 行", norm))
    else:
        try:
            doc = load_yaml(p.read_text(encoding="utf-8-sig")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(
                f"更正文件 {p.name} 不是有效的 UTF-8 YAML：{exc}", f"{p.name} is not valid UTF-8 YAML: {exc}"
            ) from exc
        items = [{"clause": k, **(v or {})} for k, v in doc.items()] if isinstance(doc, Mapping) else list(doc)
        for i, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                raise InputError(f"{p.name} 第 {i} 项应为映射。", f"{p.name} entry {i} must be a mapping")
            unknown = set(item) - _OVERRIDE_KEYS
            if unknown:
                raise InputError(
                    f"{p.name} 第 {i} 项：未知的键 {sorted(unknown)}；可用：clause、types、verdict、conditions、note",
                    f"{p.name} entry {i}: unknown keys {sorted(unknown)}; valid: clause, types, verdict, conditions, note",
                )
            types = item.get("types")
            entries.append(
                (
                    f"{p.name} 第 {i} 项",
                    {
                        **item,
                        "clause": item.get("clause") or item.get("clause_id"),
                        "types": [types] if isinstance(types, str) else types,
                    },
                )
            )
    out: dict[str, dict[str, Any]] = {}
    for where, e in entries:
        cid = str(e.get("clause") or "").strip()
        if not cid:
            raise InputError(
                f"{where}：缺少条款编号（clause，如 重点管控单元!E5#2，见审核表）。",
                f"{where}: no clause id (e.g. Sheet!E5#2, see the review sheet)",
            )
        out[cid] = {
            "types": None if not e.get("types") else [str(t).strip() for t in e["types"]],
            "verdict": None if not e.get("verdict") else str(e["verdict"]).strip(),
            "conditions": str(e.get("conditions") or ""),
            "note": str(e.get("note") or ""),
            "where": where,
        }
    return out


def parse_list(ulist: UnitList, vocab: ProjectTypes, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Split and read every clause of a list, applying the bureau's corrections.

    Parameters
    ----------
    ulist : UnitList
        The list as read.
    vocab : ProjectTypes
        Type vocabulary.
    overrides : mapping, optional
        :func:`read_overrides` output.

    Returns
    -------
    DataFrame
        One row per clause (:data:`CLAUSE_COLUMNS`); ``override`` says what a correction changed.

    Raises
    ------
    RuleError
        An override naming an unknown clause, type or verdict.
    """
    rows = []
    for e in ulist.entries.to_dict("records"):
        for n, (text, context) in enumerate(clauses_in_context(e["text"]), start=1):
            c = parse_clause(text, vocab, context)
            rows.append(
                {
                    **{
                        k: e[k]
                        for k in (
                            "sheet",
                            "cell",
                            "row",
                            "column",
                            "scope",
                            "scope_value",
                            "code",
                            "name",
                            "category",
                            "dimension",
                            "header",
                            "anchor",
                        )
                    },
                    "clause_id": f"{e['sheet']}!{e['cell']}#{n}",
                    "n": n,
                    "text": text,
                    "modality": c.modality or "",
                    "verdict": c.verdict,
                    "types": list(c.types),
                    "terms": "、".join(c.terms),
                    "conditions": "；".join(c.conditions),
                    "parsed": c.parsed,
                    "reason": c.reason,
                    "override": "",
                }
            )
    frame = pd.DataFrame(rows, columns=CLAUSE_COLUMNS)
    for cid, o in (overrides or {}).items():
        hit = frame.index[frame["clause_id"] == cid]
        if not len(hit):
            raise RuleError(
                f"{o.get('where', '')}：准入清单中没有条款 {cid}（条款编号见审核表 clause_id 列）。",
                f"{o.get('where', '')}: no clause {cid} in the list (see the review sheet's clause_id column)",
            )
        i = hit[0]
        before = _describe(frame.loc[i])
        if o.get("types") is not None:
            frame.at[i, "types"] = sorted(vocab.expand(o["types"], where=f"{o.get('where', '')} types："))
        if o.get("verdict") is not None:
            try:
                frame.at[i, "verdict"] = VERDICTS[verdict_rank(o["verdict"])]
            except RuleError as exc:
                raise RuleError(f"{o.get('where', '')}：{exc.zh}", f"{o.get('where', '')}: {exc.en}") from exc
        if o.get("conditions"):
            frame.at[i, "conditions"] = o["conditions"]
        frame.at[i, "parsed"] = bool(frame.at[i, "types"])
        frame.at[i, "reason"] = "人工更正" + (f"：{o['note']}" if o.get("note") else "")
        frame.at[i, "override"] = (
            f"{before} → {_describe(frame.loc[i])}（{o.get('where', '')}{'；' + o['note'] if o.get('note') else ''}）"
        )
    return frame


def _describe(c: Mapping[str, Any]) -> str:
    """Say what a clause became, in words (for the review sheet and the audit)."""
    if not c["parsed"]:
        return f"待核实（{c['reason']}）"
    return f"{VERDICT_ZH[c['verdict']]}：{types_zh(c['types'])}" + (f"；条件：{c['conditions']}" if c["conditions"] else "")


def scheme_citation(ulist: UnitList, registry: SourceRegistry | None = None, scheme: str | None = None) -> str:
    """Cite the list's scheme: a registered source's title and 文号, else its own title and 文号待核实.

    Parameters
    ----------
    ulist : UnitList
        The list.
    registry : SourceRegistry, optional
        Sources (default: the shipped registry).
    scheme : str, optional
        A registered source id naming the scheme.

    Returns
    -------
    str
        E.g. ``《连州市创建国家生态文明建设示范市规划》`` or ``《XX市环境管控单元生态环境准入清单》（文号待核实）``.

    Raises
    ------
    RuleError
        An unknown ``scheme`` id.
    """
    return _scheme(ulist, registry, scheme)[0]


def _scheme(ulist: UnitList, registry: SourceRegistry | None, scheme: str | None) -> tuple[str, str | None]:
    """Return the scheme's citation and its registry id (None: not registered)."""
    registry = registry or default_registry()
    if scheme:
        if scheme not in registry:
            raise RuleError(
                f"来源登记表中没有 {scheme}；可用：{'、'.join(registry.sources)}", f"source {scheme} is not registered"
            )
        src = registry[scheme]
        return src.citation + ("" if src.number or src.kind in ("data", "tool", "plan") else "（文号待核实）"), src.id
    title = ulist.title.strip() or ulist.path.stem
    for src in registry.sources.values():
        if src.kind not in ("data", "tool") and src.title and (src.title in title or title in src.title):
            return src.citation + ("" if src.number or src.kind == "plan" else "（文号待核实）"), src.id
    return f"《{title.strip('《》')}》（文号待核实）", None


def _anchor_cite(registry: SourceRegistry | None, sid: str | None) -> Any:
    """Return a function citing a row's 出处 within the registered scheme (None when not registered)."""
    if registry is None or sid is None:
        return None

    def cite(anchor: str) -> str:
        try:
            return registry.cite(Ref(source=sid, at=anchor.strip()))
        except RuleError:
            return f"{registry[sid].citation}{anchor.strip()}（条款未在来源登记表中登记，待核实）"

    return cite


def _where(c: Mapping[str, Any], units: pd.DataFrame | None) -> tuple[dict[str, tuple[str, ...]], str]:
    """Return the rule's unit condition and the label of where the clause applies."""
    if c["scope"] == "unit":
        return {"code": (str(c["code"]),)}, f"“{c['name'] or c['code']}”（{c['code']}）"
    if c["scope"] == "category":
        return {"category": (str(c["scope_value"]),)}, f"{CATEGORY_ZH.get(str(c['scope_value']), '')}总体管控要求"
    if c["scope"] == "region":
        codes: tuple[str, ...] = ()
        if units is not None and len(units):
            names = units["name"].astype("string").fillna("")
            codes = tuple(units.loc[names.str.contains(str(c["scope_value"]), regex=False).to_numpy(), "code"].astype(str))
        if not codes:  # most likely the list's own area (清远市 in 清远's list): broader, never dropped
            return {}, f"{c['scope_value']}总体管控要求（未匹配到单元名称，按全部单元适用）"
        return {"code": codes}, f"{c['scope_value']}总体管控要求"
    return {}, "总体管控要求"


def list_rules(
    clauses: pd.DataFrame,
    vocab: ProjectTypes,
    basis: str,
    *,
    units: pd.DataFrame | None = None,
    source: str = "",
    cite: Any = None,
) -> list[Rule]:
    """One unit-level rule per clause.

    Parameters
    ----------
    clauses : DataFrame
        :func:`parse_list` output.
    vocab : ProjectTypes
        Type vocabulary (the rule's verdict per type).
    basis : str
        The scheme's citation (:func:`scheme_citation`).
    units : DataFrame, optional
        The zoning's control units (``code``, ``name``): resolves the units of a region's 总体 rows.
    source : str
        The list's file name (shown in the rule's basis).
    cite : callable, optional
        Row anchor (出处 column, e.g. ``L711``) -> citation replacing ``basis`` for that row.

    Returns
    -------
    list of Rule
        Rules on ``control_unit`` (mode ``intersects``, level ``unit``).
    """
    rules = []
    names = vocab.names
    for c in clauses.to_dict("records"):
        where, label = _where(c, units)
        dim = DIMENSION_ZH.get(str(c["dimension"]), str(c["header"]))
        if c["parsed"]:
            named = set(c["types"])
            verdicts = {t: (c["verdict"] if "all" in named or named.intersection(vocab.lineage(t)) else None) for t in names}
            parse = f"〔解析：{VERDICT_EIA[c['verdict']]}·{types_zh(c['types'])}〕"
        else:
            verdicts = dict.fromkeys(names, "notice")
            parse = f"〔未能解析（{c['reason']}），待核实〕"
        at = f"{source + ' ' if source else ''}{c['sheet']} {c['cell']}（第 {c['row']} 行“{c['header']}”列）第 {c['n']} 句"
        row_basis = (cite(str(c["anchor"])) if cite is not None and c.get("anchor") else "") or basis
        at = f"〔{at}〕" if row_basis != basis else at
        conditions = str(c["conditions"] or "")
        if c["override"]:
            conditions = "；".join(x for x in (conditions, "解析经人工更正") if x)
        rules.append(
            Rule(
                id=f"LIST:{c['clause_id']}",
                layers=("control_unit",),
                where=where,
                mode="intersects",
                buffer_m=None,
                distance_m=None,
                type_verdicts=verdicts,
                verdict=str(c["verdict"]),
                message_zh=f"准入清单 {label} {dim}：“{c['text']}”{parse}",
                message_en=f"access list {c['clause_id']}: {'parsed' if c['parsed'] else 'not parsed, to be checked'}",
                basis=f"{row_basis}{at}",
                refs=(Ref(text=f"{row_basis}{at}"),),
                conditions_zh=conditions,
                level="unit",
                catalogue=str(source),
            )
        )
    return rules


def list_coverage(ulist: UnitList, units: pd.DataFrame | None, clauses: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Join check: list codes without a polygon, polygons without a row, regions naming no unit.

    Parameters
    ----------
    ulist : UnitList
        The list.
    units : DataFrame or None
        The zoning's control units (``code``, ``name``).
    clauses : DataFrame, optional
        Parsed clauses (for the regions check).

    Returns
    -------
    dict
        ``no_polygon``, ``no_row``, ``no_region`` lists.
    """
    listed = ulist.codes
    have = [] if units is None or "code" not in units else [str(c) for c in units["code"].dropna()]
    regions = sorted(set(ulist.entries.loc[ulist.entries["scope"] == "region", "scope_value"].astype(str)))
    names = [] if units is None or "name" not in units else units["name"].astype(str).tolist()
    return {
        "no_polygon": [c for c in listed if c not in set(have)],
        "no_row": [c for c in have if c not in set(listed)] if ulist.codes else [],
        "no_region": [r for r in regions if not any(r in n for n in names)],
    }


def attach_lists(
    rules: RuleSet,
    lists: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None,
    zoning: Any = None,
    *,
    overrides: str | os.PathLike[str] | None = None,
    scheme: str | None = None,
) -> RuleSet:
    """Add the rules of published access lists to a rule set (unchanged when ``lists`` is empty).

    Parameters
    ----------
    rules : RuleSet
        The catalogue's rules.
    lists : path-like or sequence of path-like or None
        Access-list files (:func:`spatial.lists.read_list`); None or empty: the
        lists the zoning manifest names (:func:`manifest_lists`), if any.
    zoning : Zoning, optional
        The zoning: resolves the units of a region's 总体 rows and checks the join.
    overrides : path-like, optional
        The bureau's corrections (:func:`read_overrides`).
    scheme : str, optional
        Registered source id of the lists' scheme.

    Returns
    -------
    RuleSet
        A copy with the list rules appended (kept when re-resolved for another
        adcode) and ``extra['lists']``: per list the file, hash, counts, join
        problems and every correction applied (for ``run.json`` and the audit).
    """
    paths = [] if lists is None else [lists] if isinstance(lists, (str, os.PathLike)) else list(lists)
    if not paths:  # the lists the zoning manifest names, if any
        entries = manifest_lists(zoning)
        if not entries:
            if overrides:
                raise InputError(
                    f"给出了清单解析更正文件 {Path(overrides).name}，但没有准入清单（--lists 或分区清单的 lists:）。",
                    f"overrides {Path(overrides).name} given but no access list (--lists or the manifest's lists:)",
                )
            return rules
        overrides = overrides or next((e["overrides"] for e in entries if e.get("overrides")), None)
        scheme = scheme or next((e["scheme"] for e in entries if e.get("scheme")), None)
        paths = [e["path"] for e in entries]
    corr = read_overrides(overrides) if overrides else {}
    units = None
    if zoning is not None and "control_unit" in getattr(zoning, "layers", {}):
        units = zoning["control_unit"].drop(columns="geometry")
    added: list[Rule] = []
    audits = []
    claimed: set[str] = set()
    for p in paths:
        ulist = read_list(p)
        mine = {k: v for k, v in corr.items() if any(k.startswith(f"{s}!") for s in ulist.sheets) or len(paths) == 1}
        claimed.update(mine)
        clauses = parse_list(ulist, rules.types, mine)
        if ulist.problems:
            listing = "；".join(f"{q['sheet']} 第 {q['row'] or '?'} 行：{q['why']}" for q in ulist.problems[:10])
            warnings.warn(
                f"准入清单 {ulist.path.name} 有 {len(ulist.problems)} 行无法定位，未转为规则（见审核表“问题”页）：{listing}"
                f" / access list {ulist.path.name}: {len(ulist.problems)} rows could not be placed and give no rule; see the review sheet",
                DataWarning,
                stacklevel=2,
            )
        basis, sid = _scheme(ulist, rules.registry, scheme)
        added += list_rules(
            clauses, rules.types, basis, units=units, source=ulist.path.name, cite=_anchor_cite(rules.registry, sid)
        )
        audits.append(audit_record(ulist, clauses, list_coverage(ulist, units, clauses), overrides))
    left = sorted(set(corr) - claimed)
    if left:
        where = corr[left[0]].get("where", "")
        raise RuleError(
            f"{where}：准入清单中没有条款 {left[0]}（条款编号见审核表）。", f"{where}: no clause {left[0]} in the lists"
        )
    out = replace(rules, rules=[*rules.rules, *added], extra={**rules.extra, "lists": [*rules.extra.get("lists", []), *audits]})
    out.attached = [*rules.attached, *added]
    return out


def audit_record(ulist: UnitList, clauses: pd.DataFrame, coverage: Mapping[str, list[str]], overrides: Any) -> dict[str, Any]:
    """Return what ``run.json`` and the audit trail record of one list: file, hash, counts, join problems, corrections.

    Parameters
    ----------
    ulist : UnitList
        The list.
    clauses : DataFrame
        :func:`parse_list` output.
    coverage : mapping
        :func:`list_coverage` output.
    overrides : path-like or None
        The corrections file.

    Returns
    -------
    dict
        The record.
    """
    from spatial.zoning import display_path

    return {
        "path": display_path(ulist.path),
        "sha256": ulist.sha256,
        "title": ulist.title,
        "sheets": list(ulist.sheets),
        "n_clauses": int(len(clauses)),
        "n_parsed": int(clauses["parsed"].sum()),
        "n_pending": int((~clauses["parsed"].astype(bool)).sum()),
        "no_polygon": list(coverage["no_polygon"]),
        "no_row": list(coverage["no_row"]),
        "no_region": list(coverage["no_region"]),
        "problems": list(ulist.problems),
        "overrides_file": str(overrides) if overrides else "",
        "overrides": [{"clause": r["clause_id"], "change": r["override"]} for r in clauses.to_dict("records") if r["override"]],
    }


def manifest_lists(zoning: Any) -> list[dict[str, Any]]:
    """Access lists named by a zoning manifest's top-level ``lists:`` (paths relative to the manifest).

    Parameters
    ----------
    zoning : Zoning
        A loaded zoning (only a ``zoning.yaml`` manifest can name lists).

    Returns
    -------
    list of dict
        ``path`` and optional ``scheme`` (source id) and ``overrides`` per list.

    Raises
    ------
    InputError
        A malformed entry or a missing file.
    """
    path = getattr(zoning, "path", None)
    if path is None or Path(path).suffix.lower() not in (".yaml", ".yml"):
        return []
    try:
        doc = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return []  # the zoning loader already reported a bad manifest
    raw = doc.get("lists") if isinstance(doc, Mapping) else None
    out = []
    for i, item in enumerate([raw] if isinstance(raw, (str, Mapping)) else list(raw or []), start=1):
        entry = {"path": item} if isinstance(item, str) else dict(item) if isinstance(item, Mapping) else {}
        if "path" not in entry or set(entry) - {"path", "scheme", "overrides"}:
            raise InputError(
                f"清单 {Path(path).name}：lists 第 {i} 项应为文件路径，或含 path（可选 scheme、overrides）的映射。",
                f"manifest {Path(path).name}: lists entry {i} must be a path or a mapping with path (and optional scheme, overrides)",
            )
        for key in ("path", "overrides"):
            if entry.get(key):
                entry[key] = Path(path).parent / str(entry[key])
                if not entry[key].is_file():
                    raise InputError(
                        f"清单 {Path(path).name}：找不到 {entry[key]}", f"manifest {Path(path).name}: {entry[key]} not found"
                    )
        out.append(entry)
    return out


def attach_manifest_lists(rules: RuleSet, zoning: Any) -> RuleSet:
    """Attach the access lists a zoning manifest names (:func:`manifest_lists`); unchanged when none.

    Parameters
    ----------
    rules : RuleSet
        Rules.
    zoning : Zoning
        The zoning.

    Returns
    -------
    RuleSet
        Rules with the lists' clauses.
    """
    return attach_lists(rules, None, zoning)
