"""What a zoning package lacks: the standard layers every screening needs, absent or empty.

Read by the screening's coverage stage (:mod:`spatial.engine.coverage`), by
``validate`` and by the web app's zoning check, so all three name the same gaps.
"""

from __future__ import annotations

from typing import Any

from layers import REGISTRY
from spatial.zoning import Zoning

__all__ = ["standard_layers", "package_gaps", "gap_labels", "incomplete_findings", "INCOMPLETE_CODES", "INCOMPLETE_LABEL"]

#: ``validate`` finding codes that make a package incomplete (a standard layer absent or empty, units without 准入清单).
INCOMPLETE_CODES = ("missing_layer", "empty_layer", "missing_access_list")
#: Added to the label of a version accepted although incomplete, wherever it is offered.
INCOMPLETE_LABEL = "（不完整）"


def incomplete_findings(doc: Any) -> list[str]:
    """Return the Chinese messages of the findings that make a validated package incomplete.

    Parameters
    ----------
    doc : dict or None
        ``ValidationReport.to_dict()`` (``findings``: list of dicts with ``code``, ``message_zh``).

    Returns
    -------
    list of str
        One message per absent or empty standard layer (empty: the package is complete).
    """
    findings = (doc or {}).get("findings") or [] if isinstance(doc, dict) else []
    return [str(f.get("message_zh", "")) for f in findings if isinstance(f, dict) and f.get("code") in INCOMPLETE_CODES]


def standard_layers() -> list[str]:
    """Return the layers every screening needs, whatever the project type.

    Returns
    -------
    list of str
        Names of the specs marked ``standard`` in registry order.
    """
    return [name for name, spec in REGISTRY.items() if spec.standard]


def _list_empty(frame: Any) -> bool:
    """Whether no control unit carries any 准入清单 text (禁止类, requirements, dimensions)."""
    from layers.control_unit import DIMENSIONS

    cols = [c for c in ("prohibited", "requirements", *DIMENSIONS) if c in frame]
    if not cols:
        return True
    text = frame[cols].astype("string").fillna("").apply(lambda c: c.str.strip())
    return not (text != "").to_numpy().any()


def package_gaps(zoning: Zoning, needed: list[str] | None = None) -> dict[str, str]:
    """Layers the package cannot answer for: absent, empty, or (control units) without 准入清单.

    Parameters
    ----------
    zoning : Zoning
        Loaded package.
    needed : list of str, optional
        Layers to check (default: :func:`standard_layers`).

    Returns
    -------
    dict
        Layer -> ``absent`` | ``empty`` | ``no_list``, in registry order.
    """
    out: dict[str, str] = {}
    for layer in needed if needed is not None else standard_layers():
        if layer not in zoning.layers:
            out[layer] = "absent"
        elif not len(zoning.layers[layer]):
            out[layer] = "empty"
        elif layer == "control_unit" and _list_empty(zoning.layers[layer]):
            out[layer] = "no_list"
    return out


def gap_labels(gaps: dict[str, str]) -> list[str]:
    """Chinese names of a package's gaps (``生态保护红线``, ``环境管控单元准入清单`` ...).

    Parameters
    ----------
    gaps : dict
        Layer -> gap (:func:`package_gaps`).

    Returns
    -------
    list of str
        One name per gap, with how it is missing.
    """
    out = []
    for layer, state in gaps.items():
        label = REGISTRY[layer].label_zh
        out.append({"absent": f"{label}（未提供）", "empty": f"{label}（图层为空）", "no_list": f"{label}准入清单（未附）"}.get(state, label))
    return out
