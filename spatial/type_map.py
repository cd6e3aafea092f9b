"""A bureau's own project-type names (``--type-map FILE``): "user value → ecozone type".

YAML: a mapping (optionally under a ``type_map:`` key)::

    光伏发电项目: photovoltaic
    镇级污水站: 污水处理厂

CSV (UTF-8, GBK ...): two columns, user value then ecozone type; a header
row is recognised by its names (用户类型/本单位类型/from … 类型/ecozone/to …)
and may be omitted.  Targets may be canonical names or any synonym.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import yaml

from layers.base import clean_key, format_rows
from spatial.errors import InputError
from spatial.io import detect_text_encoding, load_yaml

__all__ = ["load_type_map"]

#: A first row whose two cells both contain one of these is a header, not a mapping.
_HEADER_WORDS = ("类型", "type", "from", "to", "ecozone", "user", "value", "原值", "对应")


def load_type_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a type map from YAML or CSV.

    Parameters
    ----------
    path : path-like
        ``.yaml``/``.yml`` or ``.csv``/``.tsv`` file.

    Returns
    -------
    dict
        User value -> ecozone type (as written; resolved by
        :meth:`spatial.project_types.ProjectTypes.with_map`).

    Raises
    ------
    InputError
        Naming the file and line of anything that is not a value pair.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到类型对照文件：{path}", f"type map not found: {path}")
    if path.suffix.lower() in (".yaml", ".yml"):
        return _from_yaml(path)
    return _from_table(path)


def _from_yaml(path: Path) -> dict[str, str]:
    try:
        doc = load_yaml(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"类型对照 {path.name} 不是有效的 UTF-8 YAML：{exc}", f"type map {path.name} is not valid UTF-8 YAML: {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("type_map"), dict):
        doc = doc["type_map"]
    if not isinstance(doc, dict) or not doc:
        raise InputError(
            f"类型对照 {path.name} 应为“本单位类型: ecozone 类型”的映射，如 光伏发电项目: photovoltaic。",
            f"type map {path.name} must be a mapping 'your type: ecozone type', e.g. 光伏发电项目: photovoltaic",
        )
    bad = [str(k) for k, v in doc.items() if not isinstance(v, (str, int)) or not str(v).strip()]
    if bad:
        raise InputError(
            f"类型对照 {path.name} 中这些键没有对应的类型：{format_rows(bad, 20)}",
            f"type map {path.name}: no target type for {format_rows(bad, 20)}",
        )
    return {str(k).strip(): str(v).strip() for k, v in doc.items()}


def _from_table(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    enc = detect_text_encoding(raw[: 1 << 20])
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    df = pd.read_csv(path, encoding=enc, sep=sep, header=None, dtype=str, skip_blank_lines=False, keep_default_na=False)
    if df.shape[1] < 2:
        raise InputError(
            f"类型对照 {path.name} 需要两列：本单位类型, ecozone 类型。",
            f"type map {path.name} needs two columns: your type, ecozone type",
        )
    first = [clean_key(str(c)) for c in df.iloc[0, :2]] if len(df) else []
    start = 1 if first and all(any(w in c for w in _HEADER_WORDS) for c in first) else 0
    out: dict[str, str] = {}
    bad = []
    for i in range(start, len(df)):
        user, target = (str(v).strip() for v in df.iloc[i, :2])
        if not user and not target:
            continue  # blank line
        if not user or not target:
            bad.append(f"第{i + 1}行/line {i + 1}")
            continue
        out[user] = target
    if bad:
        raise InputError(
            f"类型对照 {path.name} 有不完整的行：{format_rows(bad, 20)}（每行需要两列）。",
            f"type map {path.name}: incomplete lines {format_rows(bad, 20)} (two columns each)",
        )
    return out
