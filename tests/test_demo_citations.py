"""The 连州 demo cites only national, Guangdong, 清远 or 连州 sources; a 四会 package only national and Guangdong."""

from __future__ import annotations

import re

import pytest
from test_sources import cited_sources

from spatial.rules import load_rules
from spatial.sources import default_registry

OTHER_PLACES = ("开平", "江门", "江海", "阳江", "四会")


@pytest.mark.slow
def test_demo_report_cites_only_its_own_jurisdiction(demo_result) -> None:
    from maps.eia import build_model
    from maps.report import render_report_html

    result = demo_result
    assert result.rules.adcode == "441882" and "行政区图层" in result.rules.adcode_note
    reg = default_registry()
    for sid in cited_sources(result.rules):
        j = reg[sid].jurisdiction
        assert j is None or j[0] in ("44", "4418", "441882"), sid
    basis = " ".join(result.hits["basis"].astype(str))
    assert "《连州市创建国家生态文明建设示范市规划》" in basis or "自然资发〔2022〕142号" in basis
    html = render_report_html(build_model(result), [])
    for place in OTHER_PLACES:
        assert not re.search(f"《[^》]*{place}[^》]*》", html), place


def test_sihui_package_cites_national_and_guangdong_only() -> None:
    rules = load_rules(adcode="441284")
    reg = default_registry()
    cited = cited_sources(rules)
    assert cited and all(reg[s].jurisdiction in (None, ("44",)) for s in cited)
    text = " ".join(r.basis for r in rules) + " ".join(e.basis for r in rules for e in r.exemptions)
    for place in ("连州", *OTHER_PLACES[:-1]):
        assert place not in text, place
