"""``ecozone validate Z``: zoning integrity (gaps, overlaps, codes, conflicts)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from spatial.cli.context import working_on
from spatial.cli.helpers import make_console
from spatial.cli.options import ZoningPath, command_line, force_option, require_zoning, tolerance_option
from spatial.io import write_vector_layers
from spatial.output import output_path, write_json
from spatial.outset import RUN_FILE, output_set
from spatial.validate import ValidationReport, validate_zoning
from spatial.zoning import demo_zoning_path

__all__ = ["command"]

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
_SHOWN = 40


def _print(report: ValidationReport, console: Console) -> None:
    if report.findings:
        t = Table(title=f"完整性检查 / integrity: {report.path}")
        for col in ("code", "severity", "layer", "features 要素", "问题 / finding"):
            t.add_column(col)
        for f in report.findings[:_SHOWN]:
            style = _SEVERITY_STYLE.get(f.severity, "")
            ids = ", ".join(f.feature_ids[:4]) + (" …" if len(f.feature_ids) > 4 else "")
            t.add_row(f.code, f"[{style}]{f.severity}[/]", f.layer, ids, f.message_zh)
        console.print(t)
        if len(report.findings) > _SHOWN:
            console.print(f"[dim]… 共 {len(report.findings)} 项，见 validate.json / {len(report.findings)} in all[/]")
    counts = ", ".join(f"{k} {v}" for k, v in report.codes().items()) or "—"
    if report.clean:
        console.print(f"[green]未发现问题 / clean[/] ({counts})")
    else:
        console.print(f"[bold red]发现 {len(report.counted)} 个问题 / {len(report.counted)} findings[/]: {counts}")


@click.command("validate")
@click.argument("zoning", required=False, type=ZoningPath(), callback=require_zoning)
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write OUT/validate.json and OUT/validate.gpkg (gaps, overlaps, findings) (输出目录，可选).",
)
@tolerance_option
@force_option
@click.option("--lists", "lists", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="Published 准入清单 to join with the units by code (default: the manifest's lists:).")
@click.pass_context
def command(ctx: click.Context, zoning: Path | None, out: Path | None, tolerance_m2: float, force: bool, lists: tuple[Path, ...]) -> None:
    """Check a zoning package (a path, or `demo` for the bundled demo) for integrity problems.

    Invalid geometry, gaps and overlaps between control units, duplicate or
    malformed unit codes, core zones outside the red line, features outside
    the boundary, farmland/urban/mining inside protected areas or the red
    line; every standard layer (红线, 自然保护地, 水源保护区, 管控单元 with 准入清单,
    永久基本农田, 城镇开发边界) absent or empty is an error.
    Exit status: 0 clean, 1 findings, 2 unusable input.
    """
    console = make_console()
    keys = ("validate_json", "validate_gpkg")
    with output_set(out, force=force, inputs=[zoning or demo_zoning_path(), *lists], argv=command_line()) if out is not None else contextlib.nullcontext() as oset:
        working_on("zoning", zoning)
        report = validate_zoning(zoning, tolerance_m2=tolerance_m2, lists=lists)
        working_on("outputs", out)
        if oset is not None:
            with_geom = report.to_geodataframe()
            with_geom = with_geom[with_geom.geometry.notna()].reset_index(drop=True)
            write_vector_layers(
                output_path(oset.staging, "validate_gpkg"),
                {"gaps": report.gaps, "overlaps": report.overlaps, "findings": with_geom},
                force=force,
            )
            write_json(output_path(oset.staging, "validate_json"), report.to_dict(), force=force)
    _print(report, console)
    if out is not None:
        console.print(f"已写出 / wrote: {', '.join(str(p) for p in [*(output_path(out, k) for k in keys), out / RUN_FILE])}")
    if report.exit_code:
        ctx.exit(report.exit_code)
