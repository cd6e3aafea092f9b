"""The summary report of a large batch: which sites get a section, and the all-site table.

A batch above :data:`spatial.job.SUMMARY_SITES` sites gets a summary report
instead of a section per site (a 15 000-site batch would be a 30 000-page
document that nobody reads).  Its rules:

* every site stands in the ``汇总`` sheet of ``report.xlsx`` (and in
  ``sites.csv``), one row each, built here from the screening's own columns
  (``verdict_eia``, ``summary_zh``, ``coverage_zh``) in one vectorised pass;
* the sections (and their 附图 insets) go to the sites that are not 符合,
  worst verdict first, then in input order, up to a stated number; the printed
  汇总表 of the HTML/DOCX/PDF lists the same sites;
* a note under 逐个地块符合性分析 says how many sites, how many are not 符合,
  how many have a section, and where the rest are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from maps.eia import INFO_LABELS
from maps.style import project_type_zh
from spatial.coordfile import is_placeholder_id
from spatial.output import user_columns
from spatial.project_types import VERDICT_EIA, VERDICT_RANK

__all__ = ["SUMMARY_COLUMNS", "section_ids", "summary_table", "summary_counts", "summary_note"]

#: The columns of the summary table, as in a full report's 汇总表.
SUMMARY_COLUMNS = ["序号", "地块编号", "项目名称", "项目类型", "符合性结论", "涉及情况", "分项结论", "数据覆盖"]
#: The order the counts are printed in.
_WORDS = ("不符合", "有条件符合", "待核实", "符合")


def section_ids(sites: pd.DataFrame, limit: int) -> list[str]:
    """Return the sites a summary report analyses one by one: not 符合, worst verdict first, then input order.

    Parameters
    ----------
    sites : DataFrame
        The screening's sites (``site_id``, ``verdict``).
    limit : int
        At most this many.

    Returns
    -------
    list of str
        Site ids, in the order their sections are printed (input order).
    """
    rank = sites["verdict"].astype(str).map(VERDICT_RANK).fillna(0).to_numpy()
    order = np.lexsort((np.arange(len(sites)), -rank))  # worst first, ties in input order
    chosen = [i for i in order if rank[i] > VERDICT_RANK["compatible"]][: max(int(limit), 0)]
    return sites["site_id"].astype(str).to_numpy()[np.sort(np.asarray(chosen, dtype=np.int64))].tolist()


def summary_table(sites: pd.DataFrame, sections: Sequence[str] = ()) -> pd.DataFrame:
    """Return one summary row per site, from the screening's own columns (no per-site work).

    Parameters
    ----------
    sites : DataFrame
        The screening's sites.
    sections : sequence of str
        The sites with a section (their 分项结论 points to it).

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`, then the planner's own columns (known ones in Chinese).
    """
    ids = sites["site_id"].astype(str)
    raw_names = sites["name"] if "name" in sites else ids
    names = [i if is_placeholder_id(n) or not str(n).strip() or pd.isna(n) else str(n).strip() for n, i in zip(raw_names, ids, strict=True)]
    raw_types = sites["project_type_raw"] if "project_type_raw" in sites else pd.Series("", index=sites.index)
    types = [str(r) if isinstance(r, str) and r.strip() else project_type_zh(t) for r, t in zip(raw_types, sites["project_type"], strict=True)]
    words = sites["verdict_eia"] if "verdict_eia" in sites else sites["verdict"].astype(str).map(VERDICT_EIA)
    with_section = ids.isin(set(sections)).to_numpy()
    table = pd.DataFrame(
        {
            "序号": np.arange(1, len(sites) + 1),
            "地块编号": ids.to_numpy(),
            "项目名称": names,
            "项目类型": types,
            "符合性结论": words.astype(str).to_numpy(),
            "涉及情况": sites["summary_zh"].fillna("").astype(str).to_numpy() if "summary_zh" in sites else "",
            "分项结论": np.where(with_section, "见逐个地块符合性分析", "逐项对照从略（见 hits.csv）"),
            "数据覆盖": sites["coverage_zh"].fillna("").astype(str).to_numpy() if "coverage_zh" in sites else "",
        },
        columns=SUMMARY_COLUMNS,
    )
    for c in user_columns(sites):  # the planner's own columns, unchanged (known ones in Chinese; renamed only on a clash)
        label = INFO_LABELS.get(c, c)
        table[label if label not in table.columns else f"{label}（原表）"] = sites[c].to_numpy()
    return table


def summary_counts(table: pd.DataFrame) -> dict[str, int]:
    """Count the sites per conclusion word, in the printed order."""
    return {w: int((table["符合性结论"] == w).sum()) for w in _WORDS}


def summary_note(n_sites: int, n_not_ok: int, n_sections: int) -> str:
    """Say what a summary report leaves out, and where it is.

    Parameters
    ----------
    n_sites : int
        Sites screened.
    n_not_ok : int
        Sites that are not 符合.
    n_sections : int
        Sites analysed one by one.

    Returns
    -------
    str
        The note printed under 逐个地块符合性分析.
    """
    left = n_not_ok - n_sections
    if n_not_ok == 0:
        return (
            f"本报告为摘要报告：共 {n_sites} 个地块，全部列入 report.xlsx 的“汇总”表及 sites.csv，结论均为“符合”，逐项对照从略。"
            "如需全部地块的逐个分析，运行 ecozone screen 时加 --products report-full。"
        )
    rest = (
        f"结论不为“符合”的 {n_not_ok} 个地块中，按结论从严到宽取前 {n_sections} 个逐个分析，其余 {left} 个的命中规则见 hits.csv 和 report.xlsx；"
        if left > 0
        else f"以下对 {n_sections} 个结论不为“符合”的地块逐个分析；"
    )
    return (
        f"本报告为摘要报告：共 {n_sites} 个地块，全部列入 report.xlsx 的“汇总”表及 sites.csv（上文汇总表仅列逐个分析的地块）。{rest}"
        f"{n_sites - n_not_ok} 个“符合”地块的逐项对照从略。如需全部地块的逐个分析，运行 ecozone screen 时加 --products report-full。"
    )
