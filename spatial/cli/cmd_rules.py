"""``ecozone rules``: the effective rule catalogue, its levels and sources."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.options import as_of_option, zoning_option
from spatial.rules import LEVEL_ZH, load_rules

__all__ = ["command"]


@click.command("rules")
@click.option(
    "--rules",
    "-r",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Rule catalogue YAML (规则文件; default: shipped stack).",
)
@zoning_option(required=False)
@click.option(
    "--adcode",
    default=None,
    help="Adcode of the area (行政区划代码, e.g. 441882); default: from --zoning's boundary, else national rules only.",
)
@click.option(
    "--explain",
    "explain",
    default=None,
    metavar="TYPE",
    help="Explain one project type: each effective rule with its level and source (解释某类项目适用的规则).",
)
@as_of_option
def command(rules: Path | None, zoning: Path | None, adcode: str | None, explain: str | None, as_of: str | None) -> None:
    """Show the effective rules, their levels and sources (规则目录与依据).

    \b
    The rules depend on where the zoning lies: national rules everywhere,
    then Guangdong (44), its regions and counties, then each unit's list.
    Give --zoning (its boundary code) or --adcode; with neither, only the
    national level applies.
    """
    from spatial.jurisdiction import check_adcode, zoning_adcode

    if zoning is not None:
        from spatial.cache import load_zoning_cached

        code, note = zoning_adcode(load_zoning_cached(zoning), adcode)
    elif adcode:
        code, note = check_adcode(adcode), f"行政区划代码 {adcode}（命令行指定）"
    else:
        code, note = None, "未指定分区数据或行政区划代码：仅列国家级规则（可用 --zoning 或 --adcode）"
    ruleset = load_rules(rules, adcode=code, adcode_note=note, as_of=as_of)
    click.echo(f"规则目录 catalogue: {ruleset.catalogue_id}  ({note})")
    click.echo(f"筛查日期 as of: {ruleset.as_of}（规则引用当日施行的条文 / rules cite the law in force that day）")
    applied = [f"{LEVEL_ZH[lv['level']]}：{lv['title'] or lv['id']}" for lv in ruleset.levels if lv["applied"]]
    click.echo("适用层级 levels: " + " → ".join(applied))
    for d in ruleset.dropped:
        click.echo(f"  未适用 {d['rule_id']}（{d['file']}）：{d['reason']}")
    if explain is None:
        for r in ruleset:
            click.echo(f"{r.id:<12} [{LEVEL_ZH[r.level]}] {'、'.join(r.layers)}  依据：{r.basis}")
        _notes(ruleset.notes)
        return
    from spatial.explain import explain_type
    from spatial.project_types import VERDICT_EIA, VERDICT_ZH

    table = explain_type(ruleset, explain)
    canon = table.attrs["project_type"]
    click.echo(f"项目类型 project type: {explain} → {canon}；适用规则 {len(table)} 条")
    for row in table.itertuples(index=False):
        where = f"（{row.where}）" if row.where else ""
        tag = "豁免条款 " if row.exemption else ""
        site = f"；仅限{row.site}" if row.site else ""
        click.echo(f"\n{row.rule_id}  {row.verdict_zh}（{row.verdict_eia}） [{row.level_zh}级] {row.layer_zh}{where}{site}")
        click.echo(f"  {tag}依据：{row.basis}")
        if row.conditions_zh:
            click.echo(f"  条件：{row.conditions_zh}")
        click.echo(f"  说明：{row.message_zh}")
        if row.clause:
            click.echo(f"  条文：{row.clause}")
    if not len(table):
        click.echo(f"没有规则涉及此类型：在任何分区内均为{VERDICT_ZH['compatible']}（{VERDICT_EIA['compatible']}）。")
    _notes(ruleset.notes)


def _notes(notes: list[str]) -> None:
    """Print the sources' 〔待核实〕/〔已被替代〕 notes once, as footnotes."""
    if notes:
        click.echo("\n注 notes:")
        for i, n in enumerate(notes, start=1):
            click.echo(f"  {i}. {n}")
