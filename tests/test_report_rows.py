"""Every row of the demo report answered by its own facts (issue 25).

Over every row of every site: 本项目情况 names only the layers of its row;
no row reads 未设定; no crossing length or overlap exceeds the site's; no plan
line number anywhere in the report; every 综上 names the city scheme; an outside
finding in the appendix says 最近的…（距离…，方位…）.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from layers import REGISTRY
from maps.eia import build_model

_DATA = Path(__file__).resolve().parents[1] / "spatial" / "data"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (_DATA / "lianzhou_sites.gpkg").exists(), reason="demo data not built"),
]
_QUOTED = re.compile(r"“[^”]*”|（[A-Z0-9]{4,}[^）]*）")
_PLAN_LINE = re.compile(r"》[^《；]*?\bL\d+")


@pytest.fixture(scope="module")
def demo():
    from spatial.screening import screen
    from spatial.zoning import demo_sites_path, load_zoning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
        res = screen(demo_sites_path(), load_zoning())
    return res, build_model(res)


def _labels(layers) -> dict[str, set[str]]:
    """Words that name each layer: its label and its Chinese aliases of three characters or more."""
    out = {}
    for n in layers:
        spec = REGISTRY.get(n)
        if spec is None:
            continue
        words = {spec.label_zh, *(a for a in spec.aliases if len(a) >= 4 and re.search(r"[\u4e00-\u9fff]{4}", a))}
        out[n] = words
    return out


def test_each_situation_mentions_only_its_rows_layers(demo) -> None:
    res, model = demo
    labels = _labels(res.zoning.layers)
    checked = 0
    for s in model.sites:
        for t in s.tables:
            for r in t.rows:
                assert r.layers, (s.site_id, r.requirement)
                text = _QUOTED.sub("", r.situation)  # feature names may contain any word
                own = set().union(*(labels.get(n, set()) for n in r.layers))
                for layer, words in labels.items():
                    if layer in r.layers:
                        continue
                    for w in words - own:
                        assert w not in text, (s.site_id, t.title, r.requirement[:30], r.situation, layer)
                checked += 1
    assert checked > 5 * len(model.sites)


def test_no_unset_rows_and_verdicts_from_the_rows_rules(demo) -> None:
    res, model = demo
    hits = res.hits
    for s in model.sites:
        mine = hits[hits["site_id"].astype(str) == s.site_id]
        for t in s.tables:
            for r in t.rows:
                assert "未设定" not in r.requirement and "未对本类项目设定" not in r.requirement
                assert r.verdict in ("符合", "不符合", "有条件符合", "待核实")
                if r.rules and r.geometric and r.layers[0] not in ("control_unit", "boundary"):
                    fired = mine[mine["rule_id"].astype(str).isin(r.rules.split("、"))]
                    if not len(fired):
                        assert r.verdict == "符合", (s.site_id, r.rules, r.verdict)


def test_a_river_row_speaks_of_rivers_a_road_row_of_roads(demo) -> None:
    res, model = demo
    cor = res.zoning.layers["corridor"]
    rivers = set(cor.loc[cor["kind"].astype(str) == "river", "name"].astype(str))
    roads = set(cor.loc[cor["kind"].astype(str) == "road", "name"].astype(str))
    seen = 0
    for s in model.sites:
        for t in s.tables:
            for r in t.rows:
                assert not {"COR-ROAD", "COR-RIVER"} <= set(r.rules.split("、")), r.rules  # a row per kind
                names = set(re.findall(r"“([^”]+)”", r.situation))
                if "公路" in r.requirement and "水系" not in r.requirement:
                    assert not names & rivers, (s.site_id, r.situation)
                    seen += 1
                if "水系" in r.requirement and "公路" not in r.requirement:
                    assert not names & roads, (s.site_id, r.situation)
                    seen += 1
    assert seen


def test_measures_never_exceed_the_site(demo) -> None:
    from spatial.crs import CGCS2000, GEOD, to_crs_geoms
    from spatial.indicators import ellipsoidal_area

    res, model = demo
    g = np.asarray(res.sites.geometry.values, dtype=object)
    length = [GEOD.geometry_length(x) for x in to_crs_geoms(g, res.zoning.crs, CGCS2000)]
    area = ellipsoidal_area(g, res.zoning.crs)
    size = {sid: (ln, a) for sid, ln, a in zip(res.sites["site_id"].astype(str), length, area, strict=True)}
    n = 0
    for s in model.sites:
        ln, a = size[s.site_id]
        for t in s.tables:
            for r in t.rows:
                for m in re.findall(r"穿越长度约([\d,]+) m", r.situation):
                    assert float(m.replace(",", "")) <= ln + 1, (s.site_id, r.situation, ln)
                    n += 1
                for m in re.findall(r"重叠面积([\d,]+) m²", r.situation):
                    assert float(m.replace(",", "")) <= a + 1, (s.site_id, r.situation, a)
                    n += 1
    assert n


def test_no_plan_line_and_city_scheme_in_every_conclusion(demo) -> None:
    _, model = demo
    texts = [s.conclusion for s in model.sites]
    texts += [r.basis + r.requirement + r.situation for s in model.sites for t in s.tables for r in t.rows]
    texts += model.hits["依据"].astype(str).tolist()
    for text in texts:
        assert not _PLAN_LINE.search(text), text
    for s in model.sites:
        assert "《清远市“三线一单”生态环境分区管控方案》（文号待核实）" in s.conclusion, s.conclusion
        assert "粤府〔2020〕71号" in s.conclusion
        if s.verdict_zh == "不符合":
            assert "违反" in s.conclusion, s.conclusion


def test_outside_findings_say_nearest(demo) -> None:
    _, model = demo
    h = model.hits
    outside = h[h["距离（米）"].fillna(0) > 0]
    assert len(outside)
    for v in outside["要素名称"]:
        assert re.match(r"最近的“[^”]+”（([^，）]+，)?距离[^，）]+，方位[东南西北]+）", v), v


def test_audit_lists_every_catalogue_and_the_sources_registry(demo) -> None:
    import hashlib

    from spatial.sources import default_sources_path

    res, model = demo
    files = model.audit_files
    applied = [lv for lv in res.rules.levels if lv["applied"]]
    assert len(applied) >= 3  # national, province, region, county for 连州
    cats = files[files["用途"].str.startswith("规则目录")]
    assert cats["文件"].tolist() == [lv["file"] for lv in applied]
    for lv, (_, row) in zip(applied, cats.iterrows(), strict=True):
        path = next(p for p in (_DATA / lv["file"], _DATA / "catalogues" / lv["file"]) if p.exists())
        assert row["SHA-256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row["图层/版本"].startswith("版本 ")
    reg = files[files["用途"] == "依据来源登记表"].iloc[0]
    assert reg["SHA-256"] == hashlib.sha256(default_sources_path().read_bytes()).hexdigest()
    audit = dict(model.audit)
    assert audit["软件版本"].startswith("ecozone ") and "筛查基准日" in audit
    assert audit["分区数据发布机关"] == "【待填写】"  # the demo GeoPackage has no manifest saying it


@pytest.fixture(scope="module")
def demo_with_list():
    """The demo as ``ecozone demo`` screens it: the rules with the demo's 准入清单 attached."""
    from spatial.list_rules import attach_lists
    from spatial.lists import demo_list_path
    from spatial.rules import load_rules
    from spatial.screening import screen
    from spatial.zoning import demo_sites_path, demo_zoning_path, load_zoning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # demo data quirks are the data tests' business
        zoning = load_zoning(demo_zoning_path())
        res = screen(demo_sites_path(), zoning, attach_lists(load_rules(), demo_list_path(), zoning, scheme="plan-lianzhou"))
    return res, build_model(res)


def test_every_pending_list_clause_is_answered_for_its_site(demo_with_list) -> None:
    """No 待核实 clause of the list disappears: quoted in the site's row, or cited by a number whose shared row names the site."""
    res, model = demo_with_list
    hits = res.hits
    pending = hits[hits["rule_id"].astype(str).str.startswith("LIST:") & (hits["verdict"].astype(str) == "notice")]
    assert len(pending) > 100
    shared = {int(r["序号"]): r for r in model.shared_list.to_dict("records")}
    assert shared and len(shared) < pending["rule_id"].nunique()  # some shared, some a single site's own
    by_site = {s.site_id: s for s in model.sites}
    n_cited = n_quoted = 0
    for h in pending.to_dict("records"):
        sid, rid, msg = str(h["site_id"]), str(h["rule_id"]), str(h["message_zh"])
        rows = [r for t in by_site[sid].tables if t.key == "list" for r in t.rows if rid in r.rules.split("、")]
        assert len(rows) == 1 and rows[0].verdict == "待核实", (sid, rid, rows)
        text = rows[0].requirement
        if msg in text:
            n_quoted += 1
            continue
        nums = [int(n) for m in re.findall(r"准入清单共用条款表[^第]*第([\d、]+)条", text) for n in m.split("、")]
        row = next(shared[n] for n in nums if shared[n]["条款"] == msg)  # the clause is one of the numbers cited
        named = row["适用地块"]
        assert (sid in named) if not named.startswith(("全部", "除")) else (sid not in named), (sid, named)
        n_cited += 1
    assert n_cited and n_quoted
    printed = model.hits_printed
    assert printed is not None and not printed["规则编号"].astype(str).str.startswith("LIST:").any()


def test_rules_answered_briefly_have_their_full_text_once(demo_with_list) -> None:
    """A rule that did not fire is answered in one line; its full text and basis stand once in 附表 管控规则条文."""
    res, model = demo_with_list
    by_id = {r.id: r for r in res.rules}
    texts = model.rule_texts.set_index("规则编号")
    assert texts.index.is_unique and len(texts)
    brief = [r for s in model.sites for t in s.tables for r in t.rows if r.brief]
    assert brief
    for r in brief:
        assert r.verdict == "符合" and r.basis
        for rid in r.rules.split("、"):
            rule = by_id[rid]
            assert texts.at[rid, "管控要求"] == rule.message_zh
            head = re.split(r"[，；：。]", rule.message_zh)[0]
            assert head in r.requirement, (rid, head, r.requirement)  # the situation the rule controls is named
