"""``ecozone lists review LIST``: how a published 准入清单 is read into rules, for the bureau to check."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.context import working_on
from spatial.cli.options import DEMO_NAMES, force_option

__all__ = ["command"]


@click.group("lists")
def command() -> None:
    """Work with published 生态环境准入清单 (access lists): review their parse (准入清单)."""


def _zoning(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``demo`` names the bundled package here too (None stays: no join check)."""
    from spatial.zoning import demo_zoning_path

    if value is not None and value.strip().lower() in DEMO_NAMES and not Path(value).exists():
        return demo_zoning_path()
    return None if value is None else click.Path(exists=True, path_type=Path).convert(value, param, ctx)


@command.command("review")
@click.argument("list_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--zoning",
    "-z",
    default=None,
    callback=_zoning,
    help="Zoning package, or `demo`: check the join by unit code (分区数据，可选).",
)
@click.option(
    "--overrides",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML/CSV corrections of clause parses, keyed by clause_id (解析更正文件).",
)
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Review workbook (default list_review.xlsx beside the current folder).",
)
@force_option
def review(list_file: Path, zoning: Path | None, overrides: Path | None, out: Path | None, force: bool) -> None:
    """Write an XLSX listing every clause of LIST_FILE and what it became (types, modality, conditions) or why not."""
    from spatial.list_review import review_list
    from spatial.output import FILES
    from spatial.outset import single_output
    from spatial.zoning import load_zoning

    out = out or Path(FILES["list_review"].name)
    with single_output(out, force=force, inputs=[list_file, zoning, overrides]):
        z = None
        if zoning is not None:
            working_on("zoning", zoning)
            z = load_zoning(zoning)
        working_on("rules", list_file)
        info = review_list(list_file, out, zoning=z, overrides=overrides, force=force)
    click.echo(
        f"条款 {info['n_clauses']} 条：已解析 {info['n_parsed']}，待核实 {info['n_pending']}"
        f" / {info['n_clauses']} clauses: {info['n_parsed']} parsed, {info['n_pending']} to be checked"
    )
    if zoning is not None:
        click.echo(
            f"清单编码无图斑 {len(info['no_polygon'])} 个，图斑无清单行 {len(info['no_row'])} 个"
            f" / codes without a polygon: {len(info['no_polygon'])}, polygons without a row: {len(info['no_row'])}"
        )
    if info["overrides"]:
        click.echo(f"人工更正 {len(info['overrides'])} 条 / {len(info['overrides'])} corrections applied")
    click.echo(f"已写出 / wrote: {out}")
