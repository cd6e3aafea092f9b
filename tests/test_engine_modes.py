"""The rule-mode registry and the engine's public surface.

A mode is one object: its catalogue keys, its validation and its candidate
pairs.  These tests add a mode the way CONTRIBUTING.md says and check the
engine uses it without knowing its name.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import yaml
from conftest import km_point

from spatial.engine import modes
from spatial.errors import RuleError
from spatial.rules import load_rules
from spatial.screening import screen


def _catalogue(tmp_path: Path, rule: dict) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}, allow_unicode=True), encoding="utf-8")
    return path


def _own(hits):
    """Hits of the catalogue's own rules: a one-rule catalogue leaves the toy's other zones unregulated,
    which the coverage stage reports as ZONE- rows (issue 20)."""
    return hits[~hits["rule_id"].str.startswith(("COV-", "ZONE-"))]


def _site(x: float, y: float, ptype: str = "commercial") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"site_id": ["S0"], "project_type": [ptype]}, geometry=[km_point(x, y)], crs="EPSG:4547")


def test_public_screen_is_the_function_after_importing_the_module() -> None:
    import spatial
    import spatial.screening  # noqa: F401 - the module must not shadow the function
    from spatial import screen as fn

    assert callable(fn) and fn.__name__ == "screen"
    assert spatial.screen is fn


def test_every_catalogue_mode_is_registered() -> None:
    assert {"intersects", "buffer", "near", "outside", "unit_prohibited"} <= set(modes.MODES)
    assert {"buffer_m", "distance_m"} <= modes.mode_keys()


def test_unknown_mode_lists_the_registered_ones(tmp_path: Path) -> None:
    path = _catalogue(tmp_path, {"id": "X", "layer": "redline", "mode": "nearby", "verdict": "notice"})
    with pytest.raises(RuleError, match="unit_prohibited"):
        load_rules(path)


def test_numeric_buffer_on_corridor_uses_the_distance(tmp_path: Path, toy_zoning) -> None:
    # The river runs along y = 8 km (width 20 m).  A 100 m buffer reaches 8.0999 km, not 8.03.
    path = _catalogue(tmp_path, {"id": "B100", "layer": "corridor", "where": {"kind": "river"}, "mode": "buffer", "buffer_m": 100, "verdict": "notice"})
    rules = load_rules(path)
    inside = screen(_site(19.0, 8.0999), toy_zoning, rules)
    outside = screen(_site(19.0, 8.1001), toy_zoning, rules)
    assert _own(inside.hits)["rule_id"].tolist() == ["B100"]
    assert _own(inside.hits)["distance_m"].iloc[0] == pytest.approx(99.9, abs=1e-6)
    assert _own(outside.hits).empty


def test_a_new_mode_is_one_registered_object(tmp_path: Path, toy_zoning) -> None:
    """A ``beyond`` mode: sites farther than ``min_m`` from every feature of the layer."""
    import pandas as pd
    import shapely

    class Beyond(modes.RuleMode):
        name = "beyond"
        keys = ("min_m",)

        def validate(self, raw, layers, label):  # noqa: D102
            if not isinstance(raw.get("min_m"), (int, float)):
                raise RuleError(f"{label}：beyond 需要 min_m", f"{label}: beyond needs min_m")
            return {"min_m": float(raw["min_m"])}

        def jobs(self, rule, layer, ctx):  # noqa: D102
            def far(prepared, sg):
                d = shapely.distance(shapely.union_all(prepared.geoms[layer]), sg)
                s = np.flatnonzero(d > rule.params["min_m"])
                return pd.DataFrame({"f": np.zeros(len(s), dtype=np.intp), "s": s, "distance_m": d[s]})

            return [((layer, "beyond"), far, ctx.prepared, ctx.sites)]

    modes.register(Beyond)
    try:
        _check_beyond(tmp_path, toy_zoning)
    finally:
        del modes.MODES["beyond"]


def _check_beyond(tmp_path: Path, toy_zoning) -> None:
    with pytest.raises(RuleError, match="min_m"):
        load_rules(_catalogue(tmp_path, {"id": "F", "layer": "urban_boundary", "mode": "beyond", "verdict": "notice"}))
    rules = load_rules(_catalogue(tmp_path, {"id": "F", "layer": "urban_boundary", "mode": "beyond", "min_m": 1000, "verdict": "notice"}))
    # Urban boundary [6,9]x[14,17] km: a site at (10.5, 15) is 1.5 km away, one at (9.5, 15) 0.5 km.
    far = screen(_site(10.5, 15.0), toy_zoning, rules)
    near = screen(_site(9.5, 15.0), toy_zoning, rules)
    assert far.sites["verdict"].tolist() == ["notice"]
    assert _own(far.hits)["rule_id"].tolist() == ["F"]
    assert _own(far.hits)["distance_m"].iloc[0] == pytest.approx(1500.0)
    assert _own(near.hits).empty
