"""Indicator targets: parse a plan's 指标值 and judge each indicator against it.

A targets file is YAML::

    title: 连州市国家生态文明建设示范市规划指标
    terrain: mountain            # default terrain class for terrain-dependent targets
    land_cover:                  # class codes of the land-cover raster (optional)
      forest_classes: [10]
      grass_classes: [30]
    indicators:
      redline_area_km2: ">= 568.74"          # shorthand: comparator and value
      redline_ratio_pct:
        target: ">= 21.31"                   # >=, >, <=, <, ==, != (also ≥ ≤ ＞ ＜ ＝)
        basis: 《…规划》 L831
      protected_ratio_pct:
        terrain: mountain                    # national threshold: plain 16 / hilly 22 / mountain 33
      protected_area_km2:
        rule: 不减少                          # or not_reduced / 不降低 / 不增加 / not_increased
        baseline: previous/indicators.json   # an earlier indicators.json/csv, or a number
      forest_grass_cover_pct:
        target: ">= 60"
        scope: each                          # also judge every sub-area (default: 全域 only)

A bare number is refused: a target must say which way it points.  A value
meets a comparator target when the value, rounded to the precision the plans
report (two decimals, or more if the target is written with more), satisfies
it: ``21.305`` meets ``>= 21.31``, ``4.75`` does not meet ``>= 5``.  Status is ``met``, ``not_met`` or
``no_target``; a target whose indicator was not computed (e.g. cover without
a raster) is listed in the notes instead.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from spatial.errors import InputError, SchemaError
from spatial.indicators import INDICATORS, WHOLE, IndicatorTable
from spatial.io import bundled_path, load_yaml

__all__ = [
    "Target",
    "TargetSet",
    "TERRAIN_THRESHOLDS",
    "TERRAIN_ZH",
    "STATUSES",
    "REPORT_DECIMALS",
    "parse_comparator",
    "load_targets",
    "apply_targets",
    "demo_targets_path",
]

#: Decimals values are rounded to before a comparator is applied (the plans' precision).
REPORT_DECIMALS = 2
#: Possible ``status`` values.
STATUSES = ("met", "not_met", "no_target")

Comparator = Literal[">=", ">", "<=", "<", "==", "!="]
Terrain = Literal["plain", "hilly", "mountain"]

TERRAIN_ZH = {"plain": "平原地区", "hilly": "丘陵区", "mountain": "山区"}
_TERRAIN_SYNONYMS = {
    "plain": "plain",
    "平原": "plain",
    "平原地区": "plain",
    "平原区": "plain",
    "hilly": "hilly",
    "hill": "hilly",
    "丘陵": "hilly",
    "丘陵区": "hilly",
    "丘陵地区": "hilly",
    "mountain": "mountain",
    "mountainous": "mountain",
    "山区": "mountain",
    "山地": "mountain",
}

#: National thresholds (国家生态文明建设示范市县建设指标) that depend on terrain, with their basis.
TERRAIN_THRESHOLDS: dict[str, tuple[dict[str, float], str]] = {
    "protected_ratio_pct": (
        {"plain": 16.0, "hilly": 22.0, "mountain": 33.0},
        "国家生态文明建设示范市县建设指标：受保护地区占国土面积比例 山区≥33%、丘陵区≥22%、平原地区≥16%"
        "（《开平市生态文明建设示范市创建规划》表1 L303 ≥16；《江门高新区（江海区）…创建规划》表2—1 L447 平原地区≥16）",
    ),
    "forest_cover_pct": (
        {"plain": 18.0, "hilly": 40.0, "mountain": 60.0},
        "国家生态文明建设示范市县建设指标：森林覆盖率 山区≥60%、丘陵区≥40%、平原地区≥18%"
        "（《开平市…创建规划》表1 L210 ≥18；《江门高新区（江海区）…创建规划》L342 平原地区≥18）",
    ),
    "forest_grass_cover_pct": (
        {"plain": 18.0, "hilly": 40.0, "mountain": 60.0},
        "国家生态文明建设示范市县建设指标：林草覆盖率 山区≥60%、丘陵区≥40%、平原地区≥18%"
        "（《连州市创建国家生态文明建设示范市规划》表1 L224–L227 山区≥60）",
    ),
}

_RULES = {
    "不减少": "not_reduced",
    "面积不减少": "not_reduced",
    "不降低": "not_reduced",
    "not_reduced": "not_reduced",
    "not_decreased": "not_reduced",
    "no_decrease": "not_reduced",
    "不增加": "not_increased",
    "not_increased": "not_increased",
    "no_increase": "not_increased",
}
_RULE_ZH = {"not_reduced": "不减少", "not_increased": "不增加"}
_CMP_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
_CMP_RE = re.compile(r"^(>=|<=|==|!=|>|<|=)\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%|km²|km2|平方千米|公顷|ha|个|km)?$")
_ENTRY_KEYS = {"target", "rule", "baseline", "terrain", "basis", "scope", "note", "label"}
_TOP_KEYS = {"title", "source", "terrain", "land_cover", "indicators", "note", "notes"}


def demo_targets_path() -> Path:
    """Path of the bundled 连州 targets file.

    Returns
    -------
    Path
        ``spatial/data/lianzhou_targets.yaml`` inside the installed package.
    """
    return bundled_path("lianzhou_targets.yaml")


def parse_comparator(text: str | float | int) -> tuple[Comparator, float, int]:
    """Parse a comparator target such as ``">= 16"``, ``"≥16"``, ``"< 35"``.

    Parameters
    ----------
    text : str
        Comparator and number, optionally with a unit (``%``, ``km²``).

    Returns
    -------
    (str, float, int)
        ASCII comparator, the number, and how many decimals it was written with.

    Raises
    ------
    SchemaError
        For a bare number or anything else unparseable.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise SchemaError(
            f"目标值 {text!r} 缺少比较符：请写成 \">= {text}\"、\"<= {text}\" 等（YAML 中加引号）。",
            f"target {text!r} has no comparator: write \">= {text}\" or \"<= {text}\" (quoted in YAML)",
        )
    folded = unicodedata.normalize("NFKC", text).strip()
    folded = folded.replace("≥", ">=").replace("≤", "<=").replace("≠", "!=").replace("⩾", ">=").replace("⩽", "<=")
    folded = re.sub(r"\s+", " ", folded)
    m = _CMP_RE.match(folded)
    if not m:
        raise SchemaError(
            f"无法解析目标 {text!r}：应为比较符加数值，如 \">= 16\"、\"≥16\"、\"< 35\"、\"<= 21.31\"。",
            f"cannot parse target {text!r}: expected a comparator and a number, e.g. \">= 16\", \"< 35\"",
        )
    op = "==" if m.group(1) == "=" else m.group(1)
    number = m.group(2)
    decimals = len(number.split(".")[1]) if "." in number else 0
    return op, float(number), decimals  # type: ignore[return-value]


def _round(value: float, decimals: int) -> float:
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _compare(value: float, op: str, ref: float) -> bool:
    return {
        ">=": value >= ref,
        ">": value > ref,
        "<=": value <= ref,
        "<": value < ref,
        "==": value == ref,
        "!=": value != ref,
    }[op]


@dataclass(frozen=True)
class Target:
    """One indicator's target.

    Parameters
    ----------
    indicator : str
        Indicator name (a key of :data:`spatial.indicators.INDICATORS`).
    comparator : str or None
        ``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=`` (None for a rule).
    value : float or None
        Threshold for the comparator.
    decimals : int or None
        Decimals the threshold was written with (values are rounded to
        ``max(decimals, REPORT_DECIMALS)`` before comparing).
    rule : {'not_reduced', 'not_increased'} or None
        Qualitative rule relative to ``baseline``.
    baseline : dict of str to float
        Baseline value per area name (key ``'*'`` for every area).
    baseline_source : str
        Where the baseline came from (file or 'value').
    terrain : {'plain', 'hilly', 'mountain'} or None
        Terrain class that selected the national threshold.
    basis : str
        Citation shown with the result.
    scope : {'whole', 'each'}
        Judge only the whole boundary, or every sub-area too.
    """

    indicator: str
    comparator: str | None = None
    value: float | None = None
    decimals: int | None = None
    rule: str | None = None
    baseline: Mapping[str, float] = field(default_factory=dict)
    baseline_source: str = ""
    terrain: str | None = None
    basis: str = ""
    scope: str = "whole"

    def baseline_for(self, area_name: str) -> float | None:
        """Return the baseline value for an area (None when unknown).

        Parameters
        ----------
        area_name : str
            Area name.

        Returns
        -------
        float or None
            Baseline value.
        """
        if area_name in self.baseline:
            return self.baseline[area_name]
        return self.baseline.get("*")

    def text(self, area_name: str = WHOLE) -> str:
        """Human text of the target, e.g. ``≥ 21.31`` or ``不减少（基线 568.74）``.

        Parameters
        ----------
        area_name : str
            Area (baselines may differ per area).

        Returns
        -------
        str
            Display text.
        """
        if self.rule:
            base = self.baseline_for(area_name)
            shown = "?" if base is None else f"{base:.{self.decimals if self.decimals is not None else 4}f}"
            return f"{_RULE_ZH[self.rule]}（基线 {shown}）"
        assert self.comparator is not None and self.value is not None
        number = f"{self.value:.{self.decimals or 0}f}"
        suffix = f"（{TERRAIN_ZH[self.terrain]}）" if self.terrain else ""
        return f"{_CMP_SYMBOL[self.comparator]} {number}{suffix}"

    def evaluate(self, value: float | None, area_name: str = WHOLE) -> str:
        """Judge a value.

        Parameters
        ----------
        value : float or None
            The indicator value (NaN/None cannot meet a target).
        area_name : str
            Area, for per-area baselines.

        Returns
        -------
        str
            ``met`` or ``not_met`` (``no_target`` when a rule has no baseline for the area).
        """
        if self.rule:
            base = self.baseline_for(area_name)
            if base is None:
                return "no_target"
            if value is None or math.isnan(value):
                return "not_met"
            eps = 1e-9 * max(1.0, abs(base))  # float noise from re-measuring the same geometry
            ok = value >= base - eps if self.rule == "not_reduced" else value <= base + eps
            return "met" if ok else "not_met"
        if value is None or math.isnan(value):
            return "not_met"
        assert self.comparator is not None and self.value is not None
        v = _round(value, max(self.decimals or 0, REPORT_DECIMALS))
        return "met" if _compare(v, self.comparator, self.value) else "not_met"


@dataclass
class TargetSet:
    """A parsed targets file.

    Attributes
    ----------
    targets : dict of str to Target
        Indicator name -> target.
    title : str
        Title of the target set.
    path : Path or None
        File it was read from.
    terrain : str or None
        Default terrain class.
    forest_classes, grass_classes : tuple of int
        Land-cover class codes for the cover indicators.
    """

    targets: dict[str, Target]
    title: str = ""
    path: Path | None = None
    terrain: str | None = None
    forest_classes: tuple[int, ...] = ()
    grass_classes: tuple[int, ...] = ()


def _terrain(value: Any, where: str) -> str:
    key = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if key not in _TERRAIN_SYNONYMS:
        raise SchemaError(
            f"{where}：地形类别 {value!r} 无效；可用 plain/平原、hilly/丘陵、mountain/山区。",
            f"{where}: terrain {value!r} is not plain, hilly or mountain",
        )
    return _TERRAIN_SYNONYMS[key]


def _classes(value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).replace("，", ",").split(",")
    try:
        return tuple(int(str(v).strip()) for v in items if str(v).strip())
    except ValueError as exc:
        raise SchemaError(f"{where}：类别代码应为整数列表。", f"{where}: class codes must be a list of integers") from exc


def _load_baseline(ref: Any, indicator: str, base_dir: Path, where: str) -> tuple[dict[str, float], str]:
    """Baseline values per area from a number or an earlier indicators.json/csv."""
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        return {"*": float(ref)}, "value"
    path = Path(str(ref))
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        raise InputError(
            f"{where}：找不到基线文件 {path}（应为以前的 indicators.json 或 indicators.csv，或直接写数值）。",
            f"{where}: baseline file {path} not found (an earlier indicators.json/csv, or a number)",
        )
    try:
        if path.suffix.lower() == ".csv":
            from spatial.io import unescape_formulas

            frame = unescape_formulas(pd.read_csv(path, encoding="utf-8-sig"))  # ecozone's CSVs escape formula text
            records = frame.to_dict("records")
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            records = doc["indicators"] if isinstance(doc, Mapping) else doc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{where}：基线文件 {path} 不是 ecozone 输出的 indicators.json/csv：{exc}",
            f"{where}: baseline {path} is not an ecozone indicators.json/csv: {exc}",
        ) from exc
    out: dict[str, float] = {}
    for rec in records:
        if rec.get("indicator") == indicator and rec.get("value") is not None:
            value = float(rec["value"])
            if not math.isnan(value):
                out[str(rec.get("area_name") or WHOLE)] = value
    if not out:
        raise InputError(
            f"{where}：基线文件 {path} 中没有指标 {indicator}。", f"{where}: baseline {path} has no indicator {indicator}"
        )
    return out, str(path)


def _parse_entry(name: str, spec: Any, default_terrain: str | None, base_dir: Path, label: str) -> Target:
    where = f"{label}：indicators.{name}"
    if not isinstance(spec, Mapping):
        spec = {"target": spec}
    unknown = set(spec) - _ENTRY_KEYS
    if unknown:
        raise SchemaError(
            f"{where} 有未知键 {sorted(unknown)}；可用：{sorted(_ENTRY_KEYS)}",
            f"{where} has unknown keys {sorted(unknown)}; valid: {sorted(_ENTRY_KEYS)}",
        )
    basis = str(spec.get("basis") or "")
    scope = str(spec.get("scope") or "whole")
    if scope not in ("whole", "each"):
        raise SchemaError(f"{where}：scope 应为 whole 或 each。", f"{where}: scope must be whole or each")
    given = [k for k in ("target", "rule") if spec.get(k) is not None]
    if len(given) > 1:
        raise SchemaError(f"{where}：target 与 rule 只能给一个。", f"{where}: give either target or rule, not both")
    terrain = spec.get("terrain")
    if terrain is not None:
        terrain = _terrain(terrain, where)
    if not given:
        terrain = terrain or default_terrain
        if name not in TERRAIN_THRESHOLDS or terrain is None:
            raise SchemaError(
                f"{where} 需要 target（如 \">= 16\"）或 rule（不减少，配 baseline）"
                + (f"，或 terrain（{'/'.join(TERRAIN_ZH)}）" if name in TERRAIN_THRESHOLDS else "")
                + "。",
                f"{where} needs a target (e.g. \">= 16\") or a rule (不减少 with a baseline)"
                + (" or a terrain class" if name in TERRAIN_THRESHOLDS else ""),
            )
        thresholds, national_basis = TERRAIN_THRESHOLDS[name]
        return Target(
            indicator=name,
            comparator=">=",
            value=thresholds[terrain],
            decimals=0,
            terrain=terrain,
            basis=basis or national_basis,
            scope=scope,
        )
    if terrain is not None and name not in TERRAIN_THRESHOLDS:
        raise SchemaError(
            f"{where}：terrain 只适用于 {', '.join(TERRAIN_THRESHOLDS)}。",
            f"{where}: terrain applies only to {', '.join(TERRAIN_THRESHOLDS)}",
        )
    if "rule" in given:
        rule_key = unicodedata.normalize("NFKC", str(spec["rule"])).strip().lower()
        if rule_key not in _RULES:
            raise SchemaError(
                f"{where}：规则 {spec['rule']!r} 无效；可用：不减少/not_reduced、不增加/not_increased。",
                f"{where}: rule {spec['rule']!r} is not 不减少/not_reduced or 不增加/not_increased",
            )
        if spec.get("baseline") is None:
            raise SchemaError(
                f"{where}：规则 {spec['rule']} 需要 baseline（以前的 indicators.json 路径或数值）。",
                f"{where}: rule {spec['rule']} needs a baseline (an earlier indicators.json or a number)",
            )
        baseline, source = _load_baseline(spec["baseline"], name, base_dir, where)
        decimals = None
        if isinstance(spec["baseline"], (int, float)):
            text = repr(float(spec["baseline"]))
            decimals = len(text.split(".")[1]) if "." in text else 0
        return Target(
            indicator=name,
            rule=_RULES[rule_key],
            baseline=baseline,
            baseline_source=source,
            decimals=decimals,
            basis=basis,
            scope=scope,
        )
    try:
        op, value, decimals = parse_comparator(spec["target"])
    except SchemaError as exc:
        raise SchemaError(f"{where}：{exc.zh}", f"{where}: {exc.en}") from exc
    if terrain is not None:
        thresholds, _ = TERRAIN_THRESHOLDS[name]
        if not math.isclose(value, thresholds[terrain]):
            basis = (basis + "；" if basis else "") + f"（国家{TERRAIN_ZH[terrain]}门槛为 ≥{thresholds[terrain]:g}）"
    return Target(
        indicator=name, comparator=op, value=value, decimals=decimals, terrain=None, basis=basis, scope=scope
    )


def load_targets(path: str | os.PathLike[str]) -> TargetSet:
    """Read and check a targets YAML file.

    Parameters
    ----------
    path : path-like
        The YAML file (UTF-8).

    Returns
    -------
    TargetSet
        Parsed targets.

    Raises
    ------
    InputError
        File missing or not YAML.
    SchemaError
        Unknown indicator names (the valid ones are listed), bad comparators,
        rules without a baseline, unknown keys.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"找不到目标文件：{path}", f"targets file not found: {path}")
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"目标文件 {path} 不是有效的 UTF-8 YAML：{exc}", f"targets {path} is not valid UTF-8 YAML: {exc}") from exc
    label = path.name
    if not isinstance(doc, Mapping) or not isinstance(doc.get("indicators"), Mapping):
        raise SchemaError(
            f"目标文件 {path} 需要顶层键 indicators:，其下每个指标一项（如 redline_ratio_pct: \">= 21.31\"）。",
            f"targets {path} needs a top-level `indicators:` mapping (e.g. redline_ratio_pct: \">= 21.31\")",
        )
    unknown_top = set(doc) - _TOP_KEYS
    if unknown_top:
        raise SchemaError(
            f"目标文件 {path} 有未知顶层键 {sorted(unknown_top)}；可用：{sorted(_TOP_KEYS)}",
            f"targets {path} has unknown top-level keys {sorted(unknown_top)}; valid: {sorted(_TOP_KEYS)}",
        )
    unknown = [str(k) for k in doc["indicators"] if str(k) not in INDICATORS]
    if unknown:
        raise SchemaError(
            f"目标文件 {path}：未知指标 {', '.join(unknown)}。有效指标：{', '.join(INDICATORS)}",
            f"targets {path}: unknown indicators {', '.join(unknown)}; valid: {', '.join(INDICATORS)}",
        )
    default_terrain = _terrain(doc["terrain"], label) if doc.get("terrain") is not None else None
    land = doc.get("land_cover") or {}
    if not isinstance(land, Mapping) or set(land) - {"forest_classes", "grass_classes"}:
        raise SchemaError(
            f"{label}：land_cover 只能含 forest_classes 和 grass_classes。",
            f"{label}: land_cover takes only forest_classes and grass_classes",
        )
    targets = {
        str(name): _parse_entry(str(name), spec, default_terrain, path.parent, label)
        for name, spec in doc["indicators"].items()
    }
    return TargetSet(
        targets=targets,
        title=str(doc.get("title") or ""),
        path=path,
        terrain=default_terrain,
        forest_classes=_classes(land.get("forest_classes"), f"{label}：land_cover.forest_classes"),
        grass_classes=_classes(land.get("grass_classes"), f"{label}：land_cover.grass_classes"),
    )


def apply_targets(table: IndicatorTable, targets: TargetSet | str | os.PathLike[str]) -> IndicatorTable:
    """Fill ``target``, ``status`` and ``basis`` of an indicator table.

    Parameters
    ----------
    table : IndicatorTable
        Output of :func:`spatial.indicators.compute_indicators`.
    targets : TargetSet or path-like
        Parsed targets or a targets file.

    Returns
    -------
    IndicatorTable
        A new table; targets of indicators that were not computed are named
        in ``notes``.
    """
    if not isinstance(targets, TargetSet):
        targets = load_targets(targets)
    frame = table.frame.copy()
    frame["target"] = ""
    frame["status"] = "no_target"
    frame["basis"] = ""
    notes = list(table.notes)
    present = set(frame["indicator"])
    for name, tgt in targets.targets.items():
        if name not in present:
            notes.append(
                f"目标 {name}（{INDICATORS[name].label_zh} {tgt.text()}）未评估：该指标未计算（缺少图层或栅格）。"
                f" / target {name} not evaluated: the indicator was not computed (missing layer or raster)"
            )
            continue
        mask = frame["indicator"] == name
        if tgt.scope == "whole":
            mask &= frame["area_name"] == WHOLE
        for i in frame.index[mask]:
            area = str(frame.at[i, "area_name"])
            value = frame.at[i, "value"]
            frame.at[i, "target"] = tgt.text(area)
            frame.at[i, "status"] = tgt.evaluate(None if pd.isna(value) else float(value), area)
            frame.at[i, "basis"] = tgt.basis
            if frame.at[i, "status"] == "no_target":
                frame.at[i, "target"] = ""
    return replace(
        table, frame=frame, notes=notes, targets_path=None if targets.path is None else str(targets.path)
    )
