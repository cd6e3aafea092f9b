"""Targets files: comparators, terrain thresholds, 不减少 baselines, the shipped 连州 targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial.errors import InputError, SchemaError
from spatial.indicators import WHOLE, compute_indicators
from spatial.targets import (
    STATUSES,
    TERRAIN_THRESHOLDS,
    Target,
    apply_targets,
    demo_targets_path,
    load_targets,
    parse_comparator,
)


def _write(tmp_path: Path, text: str, name: str = "targets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">= 16", (">=", 16.0, 0)),
        ("≥16", (">=", 16.0, 0)),
        ("<= 21.31", ("<=", 21.31, 2)),
        ("< 35", ("<", 35.0, 0)),
        ("== 28", ("==", 28.0, 0)),
        ("= 28", ("==", 28.0, 0)),
        ("＞＝ 11.37 %", (">=", 11.37, 2)),
        ("≤ 548 km²", ("<=", 548.0, 0)),
        ("> -0.5", (">", -0.5, 1)),
    ],
)
def test_parse_comparator(text: str, expected: tuple[str, float, int]) -> None:
    assert parse_comparator(text) == expected


@pytest.mark.parametrize("bad", [16, 21.31, "16", "about 16", ">=", "=> 16", ""])
def test_parse_comparator_refuses(bad: object) -> None:
    with pytest.raises(SchemaError, match="比较符|comparator"):
        parse_comparator(bad)  # type: ignore[arg-type]


def test_rounding_to_report_precision() -> None:
    t = Target("redline_ratio_pct", comparator=">=", value=21.31, decimals=2)
    assert t.evaluate(21.305) == "met"  # reported as 21.31
    assert t.evaluate(21.3049) == "not_met"
    assert t.evaluate(float("nan")) == "not_met"
    five = Target("redline_ratio_pct", comparator=">=", value=5.0, decimals=0)
    assert five.evaluate(4.75) == "not_met"  # an integer target is not a licence to round 4.75 up
    below = Target("x", comparator="<", value=35.0, decimals=0)
    assert below.evaluate(34.99) == "met"
    assert below.evaluate(34.996) == "not_met"  # reported as 35.00, which is not < 35
    assert Target("x", comparator="==", value=28.0, decimals=0).evaluate(28.0) == "met"


def test_unknown_indicator_lists_valid_names(tmp_path: Path) -> None:
    path = _write(tmp_path, 'indicators:\n  red_line_ratio: ">= 21"\n')
    with pytest.raises(SchemaError) as exc:
        load_targets(path)
    assert "red_line_ratio" in str(exc.value)
    assert "redline_ratio_pct" in str(exc.value)  # the valid names are listed


def test_bare_number_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="redline_ratio_pct"):
        load_targets(_write(tmp_path, "indicators:\n  redline_ratio_pct: 21.31\n"))


@pytest.mark.parametrize(("terrain", "threshold"), [("plain", 16), ("丘陵", 22), ("mountain", 33), ("山区", 33)])
def test_terrain_selects_national_threshold(tmp_path: Path, terrain: str, threshold: float) -> None:
    tset = load_targets(_write(tmp_path, f"indicators:\n  protected_ratio_pct:\n    terrain: {terrain}\n"))
    t = tset.targets["protected_ratio_pct"]
    assert (t.comparator, t.value) == (">=", threshold)
    assert "国家生态文明建设示范市县建设指标" in t.basis
    assert t.evaluate(threshold + 0.01) == "met"
    assert t.evaluate(threshold - 0.01) == "not_met"


def test_default_terrain_and_errors(tmp_path: Path) -> None:
    tset = load_targets(_write(tmp_path, "terrain: hilly\nindicators:\n  forest_cover_pct: {}\n"))
    assert tset.targets["forest_cover_pct"].value == TERRAIN_THRESHOLDS["forest_cover_pct"][0]["hilly"]
    with pytest.raises(SchemaError, match="terrain"):
        load_targets(_write(tmp_path, "indicators:\n  redline_area_km2:\n    terrain: plain\n    target: '>= 1'\n"))
    with pytest.raises(SchemaError, match="target"):
        load_targets(_write(tmp_path, "indicators:\n  redline_area_km2:\n    basis: x\n"))
    with pytest.raises(SchemaError, match="volcanic"):
        load_targets(_write(tmp_path, "indicators:\n  protected_ratio_pct:\n    terrain: volcanic\n"))
    with pytest.raises(SchemaError, match="unknown keys"):
        load_targets(_write(tmp_path, "indicators:\n  redline_area_km2:\n    traget: '>= 1'\n"))
    with pytest.raises(SchemaError, match="indicators"):
        load_targets(_write(tmp_path, "redline_area_km2: '>= 1'\n"))
    with pytest.raises(InputError):
        load_targets(tmp_path / "missing.yaml")


def test_not_reduced_against_previous_indicators_json(tmp_path: Path, toy_zoning) -> None:
    table = compute_indicators(toy_zoning)
    base = tmp_path / "before" / "indicators.json"
    base.parent.mkdir()
    base.write_text(json.dumps(table.to_dict(), ensure_ascii=False), encoding="utf-8")
    same = load_targets(
        _write(tmp_path, "indicators:\n  redline_area_km2:\n    rule: 不减少\n    baseline: before/indicators.json\n")
    )
    judged = apply_targets(table, same)
    row = judged.row("redline_area_km2")
    assert row["status"] == "met"
    assert row["target"].startswith("不减少（基线 18.99")
    # A bigger baseline (an earlier, larger red line) is not met.
    doc = json.loads(base.read_text(encoding="utf-8"))
    for rec in doc["indicators"]:
        if rec["indicator"] == "redline_area_km2":
            rec["value"] += 0.01
    base.write_text(json.dumps(doc), encoding="utf-8")
    assert apply_targets(table, load_targets(tmp_path / "targets.yaml")).row("redline_area_km2")["status"] == "not_met"
    numeric = load_targets(_write(tmp_path, "indicators:\n  farmland_area_km2:\n    rule: not_reduced\n    baseline: 15.9\n", "n.yaml"))
    assert apply_targets(table, numeric).row("farmland_area_km2")["status"] == "met"
    with pytest.raises(SchemaError, match="baseline"):
        load_targets(_write(tmp_path, "indicators:\n  farmland_area_km2:\n    rule: 不减少\n", "m.yaml"))


def test_apply_targets_statuses_and_unevaluated(tmp_path: Path, toy_zoning) -> None:
    path = _write(
        tmp_path,
        'indicators:\n  redline_ratio_pct: ">= 4.75"\n  urban_boundary_area_km2: "< 5"\n'
        '  forest_cover_pct: ">= 60"\n  control_unit_count: "== 4"\n',
    )
    table = apply_targets(compute_indicators(toy_zoning), path)
    assert set(table.frame["status"]) <= set(STATUSES)
    assert table.row("redline_ratio_pct")["status"] == "met"
    assert table.row("urban_boundary_area_km2")["status"] == "not_met"
    assert table.row("control_unit_count")["status"] == "met"
    assert table.row("boundary_area_km2")["status"] == "no_target"
    assert table.targets_path == str(path)
    assert any("forest_cover_pct" in n for n in table.notes)  # no raster: named, not silently dropped


def test_scope_each_judges_sub_areas(tmp_path: Path, toy_zoning) -> None:
    from test_indicators import zoning_with_town

    from spatial.zoning import load_zoning

    table = compute_indicators(load_zoning(zoning_with_town(tmp_path / "z")), by_layer="town")
    path = _write(tmp_path, 'indicators:\n  redline_ratio_pct:\n    target: ">= 4"\n    scope: each\n  redline_area_km2: ">= 1"\n')
    judged = apply_targets(table, path)
    assert judged.row("redline_ratio_pct", "西镇")["status"] == "not_met"  # 3.5 %
    assert judged.row("redline_ratio_pct", "东镇")["status"] == "met"  # 6 %
    assert judged.row("redline_area_km2", "东镇")["status"] == "no_target"  # scope whole
    assert judged.row("redline_area_km2", WHOLE)["status"] == "met"


def test_shipped_lianzhou_targets() -> None:
    path = demo_targets_path()
    tset = load_targets(path)
    ratio = tset.targets["redline_ratio_pct"]
    assert (ratio.comparator, ratio.value) == (">=", 21.31)
    assert "L831" in ratio.basis
    assert tset.targets["redline_area_km2"].value == 568.74
    assert tset.targets["control_unit_count"].value == 28
    assert tset.terrain == "mountain"
    assert all(t.basis for t in tset.targets.values())
