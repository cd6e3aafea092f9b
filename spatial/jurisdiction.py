"""Where a zoning package lies: its adcode, which decides the levels and local sources that apply.

The adcode comes, in this order, from an explicit value (``--adcode``), a
``adcode:`` key at the top of a ``zoning.yaml`` manifest, or the boundary
layer's code field (行政区代码/XZQDM; several features give their common
prefix).  Without any, only national rules and sources apply, and the
outputs say so.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from spatial.errors import InputError
from spatial.io import load_yaml

__all__ = ["zoning_adcode", "check_adcode"]

_ADCODE = re.compile(r"^\d{2,12}$")


def check_adcode(value: str | int, *, source: str = "--adcode") -> str:
    """Validate an adcode (or prefix) given by a user.

    Parameters
    ----------
    value : str or int
        E.g. ``441882``.
    source : str
        Where it came from, for the message.

    Returns
    -------
    str
        The code as text.
    """
    code = str(value).strip()
    if not _ADCODE.match(code):
        raise InputError(
            f"{source}：行政区划代码应为 2–12 位数字（如 44、4418、441882），得到“{value}”。",
            f"{source}: an adcode is 2-12 digits (44, 4418, 441882), got '{value}'",
        )
    return code


def _common_prefix(codes: list[str]) -> str:
    prefix = os.path.commonprefix(codes)
    # Administrative levels: 2 (province), 4 (city), 6 (county), 9 (township), 12 (village).
    for n in (12, 9, 6, 4, 2):
        if len(prefix) >= n:
            return prefix[:n]
    return ""


def zoning_adcode(zoning, adcode: str | None = None) -> tuple[str | None, str]:
    """Adcode of a zoning package, and how it was found.

    Parameters
    ----------
    zoning : Zoning
        Loaded package.
    adcode : str, optional
        Explicit value (wins).

    Returns
    -------
    (str or None, str)
        The adcode (None when unknown) and a Chinese note for reports.
    """
    if adcode:
        return check_adcode(adcode), f"行政区划代码 {adcode}（命令行指定）"
    path = getattr(zoning, "path", None)
    if path is not None and Path(path).suffix.lower() in (".yaml", ".yml") and Path(path).is_file():
        try:
            doc = load_yaml(Path(path).read_text(encoding="utf-8-sig")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            doc = {}
        if isinstance(doc, dict) and doc.get("adcode"):
            code = check_adcode(doc["adcode"], source=f"{Path(path).name} adcode")
            return code, f"行政区划代码 {code}（分区清单 {Path(path).name}）"
    boundary = zoning.layers.get("boundary") if hasattr(zoning, "layers") else None
    if boundary is not None and "code" in boundary:
        codes = [str(c).strip() for c in boundary["code"].dropna() if _ADCODE.match(str(c).strip().split(".")[0])]
        codes = [c.split(".")[0] for c in codes]
        prefix = _common_prefix(codes) if codes else ""
        if prefix:
            return prefix, f"行政区划代码 {prefix}（行政区图层代码字段）"
    return None, "未能确定行政区划代码（行政区图层无代码字段，可用 --adcode 指定）：仅适用国家级规则和依据"
