"""``ecozone diff OLD NEW``: audit a red-line adjustment (面积不减少)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from layers import REGISTRY
from spatial.cli.context import working_on
from spatial.cli.helpers import make_console
from spatial.cli.options import ZoningPath, command_line, force_option, out_dir_option, tolerance_option
from spatial.diff import DiffResult, LineDiff, diff_layers, diff_lines
from spatial.io import write_csv, write_vector_layers
from spatial.output import output_path, write_json
from spatial.outset import RUN_FILE, output_set
from spatial.zoning import demo_zoning_path

__all__ = ["command"]


def _print(result: DiffResult, console: Console) -> None:
    d = result.to_dict()
    t = Table(title=f"{result.layer} 变化审计 / change audit")
    t.add_column("项目 item")
    t.add_column("km²", justify="right")
    t.add_column("%", justify="right")
    pct = d["net_pct"]
    t.add_row("原面积 old", f"{d['old_km2']:.4f}", "")
    t.add_row("新面积 new", f"{d['new_km2']:.4f}", "")
    t.add_row("新增 added", f"{d['added_km2']:.4f}", "")
    t.add_row("减少 removed", f"{d['removed_km2']:.4f}", "")
    t.add_row("净变化 net", f"{d['net_km2']:+.4f}", "—" if pct is None else f"{pct:+.3f}")
    t.add_row(
        f"其中投影往返误差 noise（距两版边界均 <{result.noise_distance_m:g} m，已计入）",
        f"{d['noise_m2'] / 1e6:.6f}",
        f"{d['noise_pieces']} 块/pieces",
    )
    console.print(t)
    verdict = "[green]通过 pass[/]" if result.area_not_reduced else "[bold red]未通过 FAIL[/]"
    console.print(f"面积不减少 / area not reduced: {verdict}  (area_not_reduced={str(result.area_not_reduced).lower()})")
    if len(result.breakdown):
        b = Table(title="按单元/乡镇 / by unit and town")
        for col in ("by", "code", "name", "added km²", "removed km²", "net km²"):
            b.add_column(col, justify="right" if "km²" in col else "left")
        for rec in result.breakdown.head(20).to_dict("records"):
            b.add_row(
                str(rec["by"]),
                str(rec["code"]),
                str(rec["name"]),
                f"{rec['added_km2']:.4f}",
                f"{rec['removed_km2']:.4f}",
                f"{rec['net_km2']:+.4f}",
            )
        console.print(b)
        if len(result.breakdown) > 20:
            console.print(f"[dim]… 共 {len(result.breakdown)} 行，见 diff_breakdown.csv / see diff_breakdown.csv[/]")
    for note in result.notes:
        console.print(f"[yellow]注意/note:[/] {note}")


def _print_lines(result: LineDiff, console: Console) -> None:
    t = Table(title=f"{result.layer} 长度变化 / length change (by {result.by})")
    for col in ("类别 class", "原 old km", "新 new km", "减少 lost km", "新增 gained km", "净 net km"):
        t.add_column(col, justify="left" if col.startswith("类别") else "right")
    for rec in result.totals.to_dict("records"):
        t.add_row(str(rec["value"]), *(f"{rec[k] / 1e3:.4f}" for k in ("old_m", "new_m", "lost_m", "gained_m")), f"{rec['net_m'] / 1e3:+.4f}")
    console.print(t)


@click.command("diff")
@click.argument("old", type=ZoningPath())
@click.argument("new", type=ZoningPath())
@click.option("--layer", default="redline", show_default=True, help="Layer to compare (比较的图层).")
@tolerance_option
@click.option(
    "--fail-on-reduction",
    is_flag=True,
    help="Exit with status 1 when the area is reduced (面积减少时退出码为 1，便于流水线).",
)
@out_dir_option
@force_option
def command(
    old: Path | None, new: Path | None, layer: str, tolerance_m2: float, fail_on_reduction: bool, out: Path, force: bool
) -> None:
    """Compare OLD and NEW versions of a layer (default the red line).

    OLD/NEW are zoning packages or plain vector files holding just the layer.
    Writes OUT/diff.json, OUT/diff.gpkg (layers added, removed, noise) and
    OUT/diff_breakdown.csv.  A line layer (``--layer coastline``) is compared by
    length per class instead: natural coastline lost and gained, with the pieces
    (diff.gpkg layers lost/gained; totals per class in diff_breakdown.csv).
    Exit status 0 (1 with --fail-on-reduction when
    面积不减少 fails).
    """
    console = make_console()
    keys = ("diff_json", "diff_gpkg", "diff_breakdown_csv")
    old, new = old or demo_zoning_path(), new or demo_zoning_path()  # `demo` names the bundled package
    role = REGISTRY[layer].indicator if layer in REGISTRY else None
    by_length = role is not None and role.kind == "length"  # a line layer (海岸线): length per class
    with output_set(out, force=force, inputs=[old, new], argv=command_line()) as oset:
        outputs = [output_path(oset.staging, k) for k in keys]
        working_on("input", f"{old} / {new}")
        if by_length:
            lines = diff_lines(old, new, layer=layer)
            lp = lines.pieces
            write_vector_layers(outputs[1], {k: lp[lp["change"] == k].reset_index(drop=True) for k in ("lost", "gained")}, force=force)
            write_csv(outputs[2], lines.totals, force=force)
            write_json(outputs[0], lines.to_dict(), force=force)
        else:
            result = diff_layers(old, new, layer=layer, tolerance_m2=tolerance_m2)
            p = result.pieces
            layers = {
                "added": p[(p["change"] == "added") & ~p["noise"]],
                "removed": p[(p["change"] == "removed") & ~p["noise"]],
                "noise": p[p["noise"]],
            }
            write_vector_layers(outputs[1], {k: v.reset_index(drop=True) for k, v in layers.items()}, force=force)
            write_csv(outputs[2], result.breakdown, force=force)
            write_json(outputs[0], result.to_dict(), force=force)
    if by_length:
        _print_lines(lines, console)
    else:
        _print(result, console)
    console.print(f"已写出 / wrote: {', '.join(str(p) for p in [*(output_path(out, k) for k in keys), out / RUN_FILE])}")
    if not by_length and fail_on_reduction and not result.area_not_reduced:
        raise click.exceptions.Exit(1)
