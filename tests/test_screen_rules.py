"""Each default rule: a site that triggers it and one that just escapes it.

Sites are given in WGS84 and the toy zoning is in Gauss-Kruger (EPSG:4547),
so every case also exercises reprojection.  Escapes are 10 m (polygons) or
0.1 m (buffers) beyond the edge.  Coordinates are km from the toy origin; see
tests/conftest.py for the layout.
"""

from __future__ import annotations

import pytest
from conftest import assert_fires_at_hit_only, km_sites

from spatial.rules import load_rules
from spatial.screening import screen

# rule, project type, trigger (x, y) km, escape (x, y) km, verdict when triggered, adcode (None: the toy's own 441899)
CASES = [
    ("PA-CORE", "commercial", (10.5, 10.5), (10.5, 11.01), "prohibited", None),
    # The toy reserve is a 自然保护区: its general zone is 待核实 (142号 一（一） "自然保护区…依照法律法规执行").
    ("PA-GENERAL-NR", "commercial", (9.5, 9.5), (8.99, 9.5), "notice", None),
    ("RL", "residential", (3.5, 3.5), (1.99, 3.0), "prohibited", None),
    ("RL", "research", (3.5, 3.5), (5.01, 4.0), "restricted", None),
    ("RL", "reclamation", (12.5, 2.5), (11.99, 2.5), "prohibited", None),
    ("WS-1", "residential", (15.5, 15.5), (16.01, 15.5), "prohibited", None),
    ("WS-2", "chemical", (14.5, 14.5), (13.99, 14.5), "prohibited", None),
    ("WS-Q", "chemical", (13.5, 13.5), (12.99, 13.5), "prohibited", None),
    ("FARM", "residential", (3.0, 15.0), (6.01, 15.0), "prohibited", None),
    ("COR-RIVER", "residential", (19.0, 8.0199), (19.0, 8.0201), "prohibited", "441882"),
    ("COR-ROAD", "residential", (7.5299, 1.0), (7.5301, 1.0), "prohibited", None),
    ("COR-MINING", "mining", (19.0, 8.0199), (19.0, 8.0201), "prohibited", "441882"),
    ("CU-BANNED", "electroplating", (18.0, 1.0), (9.99, 1.0), "prohibited", None),
    ("CU-PRIORITY", "industrial", (1.0, 1.0), (10.01, 1.0), "notice", None),
    ("NEAR", "commercial", (5.49, 4.0), (5.51, 4.0), "notice", None),
    ("OUTSIDE", "commercial", (-0.01, 5.0), (0.01, 5.0), "notice", None),
]


@pytest.mark.slow
@pytest.mark.parametrize(("rule", "ptype", "hit", "miss", "verdict", "adcode"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rule_triggers_and_just_escapes(toy_zoning, rule, ptype, hit, miss, verdict, adcode) -> None:
    rules = load_rules(adcode=adcode) if adcode else None
    result = screen(km_sites([hit, miss], ptype), toy_zoning, rules)
    assert_fires_at_hit_only(result.hits, rule, verdict, hit, miss)


def test_hole_is_respected(toy_zoning) -> None:
    # (14, 4) sits in the hole of the marine red line [12,16]x[2,6] - [13,15]x[3,5].
    # Agriculture: housing there would also be outside the development boundary (UB-OUT).
    result = screen(km_sites([(14.0, 4.0)], "agriculture"), toy_zoning)
    assert not result.hits.layer.eq("redline").any()
    # The hole is 2 km across: its centre is 1 km from the red line, beyond NEAR's 500 m.
    assert result.sites.verdict[0] == "compatible"
    assert result.layer_status.set_index("layer").status_zh["redline"] == "不涉及"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ptype", "expected"),
    # Issue 21: a nature reserve's general zone is 待核实 for every type until the 830号 general-zone clause is
    # obtained; 142号 一（一） defers to the law there. (The 142号 list still applies to other kinds: test_law_by_date.)
    [("tourism", "notice"), ("research", "notice"), ("ecological", "notice"), ("commercial", "notice"), ("旅游", "notice")],
)
def test_pa_general_exceptions(toy_zoning, ptype, expected) -> None:
    result = screen(km_sites([(9.5, 9.5)], ptype), toy_zoning)
    assert result.sites.verdict[0] == expected


@pytest.mark.parametrize(
    ("ptype", "expected"),
    [("agriculture", "notice"), ("national_strategic", "restricted"), ("linear_infrastructure", "restricted"), ("commercial", "prohibited")],
)
def test_farmland_by_type(toy_zoning, ptype, expected) -> None:
    result = screen(km_sites([(3.0, 15.0)], ptype), toy_zoning)
    assert result.sites.verdict[0] == expected
    assert result.hits.rule_id.eq("FARM").any()  # the farmland hit is listed even when not prohibited


@pytest.mark.parametrize(("ptype", "expected"), [("chemical", "prohibited"), ("mining", "prohibited"), ("commercial", "restricted")])
def test_ws2_industrial_subtypes_prohibited(toy_zoning, ptype, expected) -> None:
    result = screen(km_sites([(14.5, 14.5)], ptype), toy_zoning)
    assert result.sites.verdict[0] == expected


def test_ws1_water_supply_is_listed_not_silent(toy_zoning) -> None:
    result = screen(km_sites([(15.5, 15.5)], "water_supply"), toy_zoning)
    ws1 = result.hits[result.hits.rule_id == "WS-1"]
    assert ws1.verdict.tolist() == ["notice"]
    assert result.layer_status.query("site_id == 'S0' and layer == 'water_source'").status_zh.item() == "涉及"


def test_worst_verdict_wins(toy_zoning) -> None:
    # Inside the red line (prohibited) and the priority unit (restricted for industry).
    result = screen(km_sites([(3.5, 3.5)], "chemical"), toy_zoning)
    assert set(result.hits.rule_id) >= {"RL", "CU-PRIORITY"}
    assert result.sites.verdict[0] == "prohibited"
    assert result.sites.verdict_zh[0] == "禁止"


def test_point_on_shared_edge_hits_both_units(toy_zoning) -> None:
    result = screen(km_sites([(10.0, 5.0)], "commercial"), toy_zoning)
    assert sorted(result.units.code) == ["ZH44189910001", "ZH44189920001"]


def test_negatives_are_stated(toy_zoning) -> None:
    result = screen(km_sites([(18.0, 1.0)], "agriculture"), toy_zoning)  # no rule concerns farming there
    status = result.layer_status.set_index("layer").status_zh
    assert status["redline"] == "不涉及" and status["protected_area"] == "不涉及"
    assert "不涉及生态保护红线" in result.sites.summary_zh[0]
    assert result.sites.verdict[0] == "compatible"


def test_unit_ban_covers_subtypes_via_parent(tmp_path) -> None:
    from conftest import toy_layers

    from spatial.zoning import load_zoning

    layers = toy_layers()
    layers["control_unit"].loc[1, "JZHY"] = "工业"  # SE key unit bans all industry
    path = tmp_path / "z.gpkg"
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    result = screen(km_sites([(18.0, 1.0)], "化工"), load_zoning(path))
    assert result.hits[result.hits.layer == "control_unit"].rule_id.tolist() == ["CU-BANNED"]
    assert result.sites.verdict[0] == "prohibited"
