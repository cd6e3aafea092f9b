"""What each hit stands on: EIA wording, the rule's level and sources, the exemption clause and its conditions.

Applied to the engine's result tables (any engine), keyed by rule and the
site's project type: an exempted type's hit shows the clause that exempts it
and the conditions, so it is never a silent 符合.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spatial.project_types import VERDICT_EIA
from spatial.rules import RuleSet

__all__ = ["annotate_hits", "verdict_eia", "HIT_EXTRA_COLUMNS"]

#: Columns :func:`annotate_hits` adds to the hits table.
HIT_EXTRA_COLUMNS = ["verdict_eia", "level", "sources", "exemption", "conditions_zh"]


def verdict_eia(verdicts: pd.Series | np.ndarray) -> np.ndarray:
    """EIA conclusion words (符合 / 不符合 / 有条件符合 / 待核实) for internal verdicts.

    Parameters
    ----------
    verdicts : Series or ndarray
        ``compatible`` / ``notice`` / ``restricted`` / ``prohibited``.

    Returns
    -------
    ndarray of object
        The words ('' for anything else).
    """
    return pd.Series(np.asarray(verdicts, dtype=object)).map(VERDICT_EIA).fillna("").to_numpy(dtype=object)


def annotate_hits(hits: pd.DataFrame, site_types: pd.Series, rules: RuleSet) -> pd.DataFrame:
    """Add :data:`HIT_EXTRA_COLUMNS` to a hits table.

    Parameters
    ----------
    hits : DataFrame
        Hits with ``site_id``, ``rule_id`` and ``verdict``.
    site_types : Series
        Canonical project type per site id (index: site id).
    rules : RuleSet
        The rules the hits came from.

    Returns
    -------
    DataFrame
        ``hits`` with the extra columns (inserted after ``verdict``; ``exemption`` and
        ``conditions_zh`` after ``basis`` when present).
    """
    out = hits.copy()
    n = len(out)
    if not n:
        for c in HIT_EXTRA_COLUMNS:
            out[c] = pd.Series([], dtype=object)
        return out
    by_id = {r.id: r for r in rules}
    ptype = out["site_id"].map(site_types).astype(object).to_numpy()
    # Distinct (rule, type) pairs from two flat factorisations (no MultiIndex: cheap for one site too).
    rcode, rids = pd.factorize(out["rule_id"].astype(object).to_numpy())
    tcode, tvals = pd.factorize(ptype, use_na_sentinel=False)
    pair, codes = np.unique(rcode.astype(np.int64) * max(len(tvals), 1) + tcode, return_inverse=True)
    labels = [(rids[p // max(len(tvals), 1)], tvals[p % max(len(tvals), 1)]) for p in pair]
    table = {"level": [], "sources": [], "exemption": [], "conditions_zh": []}
    for rid, t in labels:  # a handful of distinct (rule, type) pairs
        rule = by_id.get(rid)
        ex = rule.exemption_for(t) if rule is not None else None
        table["level"].append(rule.level if rule is not None else "")
        table["sources"].append(rule.source_keys(t) if rule is not None else "")
        table["exemption"].append(ex.basis if ex is not None else "")
        table["conditions_zh"].append(ex.conditions_zh if ex is not None else (rule.conditions_zh if rule is not None else ""))
    pos = list(out.columns).index("verdict") + 1 if "verdict" in out else len(out.columns)
    out.insert(pos, "verdict_eia", verdict_eia(out["verdict"]) if "verdict" in out else "")
    out.insert(pos + 1, "level", np.asarray(table["level"], dtype=object)[codes])
    tail = list(out.columns).index("basis") + 1 if "basis" in out else len(out.columns)
    out.insert(tail, "sources", np.asarray(table["sources"], dtype=object)[codes])
    out.insert(tail + 1, "exemption", np.asarray(table["exemption"], dtype=object)[codes])
    out.insert(tail + 2, "conditions_zh", np.asarray(table["conditions_zh"], dtype=object)[codes])
    return out
