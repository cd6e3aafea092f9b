"""``ecozone indicators``: area indicators of a zoning package against targets."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from spatial.cli.context import working_on
from spatial.cli.options import command_line, force_option, out_dir_option, zoning_option
from spatial.errors import SchemaError
from spatial.indicators import WHOLE, IndicatorTable, compute_indicators
from spatial.io import atomic_output, ensure_writable, write_csv
from spatial.outset import output_set
from spatial.targets import apply_targets, demo_targets_path, load_targets
from spatial.zoning import Zoning, demo_zoning_path, load_zoning

__all__ = ["command", "format_value", "run_indicators"]

_STATUS_STYLE = {"met": "green", "not_met": "bold red", "no_target": "dim"}
_STATUS_ZH = {"met": "达标 met", "not_met": "未达标 not met", "no_target": "—"}
#: Indicators shown per sub-area on screen (the CSV has them all).
_SUB_AREA_SHOWN = ("boundary_area_km2", "redline_area_km2", "redline_ratio_pct", "protected_ratio_pct")


def format_value(value: float, unit: str) -> str:
    """Format an indicator value for display.

    Parameters
    ----------
    value : float
        The value (NaN shows as a dash).
    unit : str
        Its unit (counts show without decimals).

    Returns
    -------
    str
        Display text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.0f}" if unit == "个" else f"{value:,.2f}"


def _resolve_by(z: Zoning, by: str | None, by_layer: str | None) -> tuple[str | None, str | None]:
    """``--by X``: a boundary field if the boundary has one named X, else a layer X."""
    if by is None:
        return None, by_layer
    if by_layer is not None:
        raise SchemaError("--by 和 --by-layer 只能选一个。", "give either --by or --by-layer, not both")
    if by in z.boundary.columns and by != z.boundary.geometry.name:
        return by, None
    if by in z.layers and by != "boundary":
        return None, by
    cols = [c for c in z.boundary.columns if c != z.boundary.geometry.name]
    layers = [k for k in z.layers if k != "boundary"]
    raise SchemaError(
        f"--by {by}：既不是行政区图层的字段（{', '.join(cols)}），也不是分区数据中的图层（{', '.join(layers)}）。",
        f"--by {by}: neither a boundary field ({', '.join(cols)}) nor a layer of the package ({', '.join(layers)})",
    )


def _print(table: IndicatorTable, console: Console) -> None:
    whole = table.whole
    out = Table(title=f"空间指标 / indicators — {WHOLE}")
    for col in ("indicator", "名称", "value", "unit", "target 目标", "status 状态"):
        out.add_column(col, justify="right" if col == "value" else "left")
    for rec in whole.to_dict("records"):
        status = str(rec["status"])
        out.add_row(
            str(rec["indicator"]),
            str(rec["label_zh"]),
            format_value(rec["value"], str(rec["unit"])),
            str(rec["unit"]),
            str(rec["target"] or "—"),
            f"[{_STATUS_STYLE.get(status, '')}]{_STATUS_ZH.get(status, status)}[/]",
        )
    console.print(out)
    names = [n for n in table.area_names if n != WHOLE]
    if names:
        sub = Table(title=f"分区指标 / by sub-area ({table.by})")
        sub.add_column("area 区域")
        shown = [i for i in _SUB_AREA_SHOWN if i in set(table.frame["indicator"])]
        labels = dict(zip(table.frame["indicator"], table.frame["label_zh"], strict=False))
        units = dict(zip(table.frame["indicator"], table.frame["unit"], strict=False))
        for i in shown:
            sub.add_column(f"{labels[i]} ({units[i]})", justify="right")
        frame = table.frame.set_index(["area_name", "indicator"])["value"]
        for name in names:
            sub.add_row(name, *(format_value(float(frame.get((name, i), float("nan"))), units[i]) for i in shown))
        console.print(sub)
    for note in table.notes:
        console.print(f"[yellow]注意/note:[/] {note}")


def run_indicators(
    zoning: Zoning | Path | None,
    *,
    out: Path,
    force: bool = False,
    targets: Path | None = None,
    by: str | None = None,
    by_layer: str | None = None,
    raster: Path | None = None,
    forest_classes: str | None = None,
    grass_classes: str | None = None,
    band: int = 1,
    console: Console | None = None,
) -> IndicatorTable:
    """Compute, judge, write and print the indicators (the body of ``ecozone indicators``).

    Parameters
    ----------
    zoning : Zoning or Path or None
        Loaded package, a path, or None for the bundled demo.
    out : Path
        Output directory for ``indicators.csv`` and ``indicators.json``.
    force : bool, default False
        Overwrite existing outputs.
    targets : Path, optional
        Targets YAML; the bundled 连州 targets when the zoning is the demo.
    by, by_layer : str, optional
        Sub-areas: ``by`` is a boundary field or a layer name; ``by_layer`` a layer.
    raster : Path, optional
        Land-cover GeoTIFF.
    forest_classes, grass_classes : str, optional
        Comma-separated class codes (else from the targets file).
    band : int, default 1
        Raster band.
    console : rich Console, optional
        Where to print (default stdout).

    Returns
    -------
    IndicatorTable
        The judged table.
    """
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped/logged output: do not squeeze the table to 80 columns
            console = Console(width=160)
    csv_path, json_path = out / "indicators.csv", out / "indicators.json"
    ensure_writable([csv_path, json_path], force)  # refuse before the work, not after
    zoning_path = zoning.path if isinstance(zoning, Zoning) else zoning
    is_demo = zoning_path is None or Path(zoning_path).resolve() == demo_zoning_path().resolve()
    if targets is None and is_demo and demo_targets_path().exists():
        targets = demo_targets_path()
        console.print(f"[dim]目标文件 targets: {targets}（内置连州规划目标 / bundled 连州 targets）[/]")
    tset = None
    if targets is not None:
        working_on("targets", targets)
        tset = load_targets(targets)
    working_on("zoning", zoning_path)
    z = zoning if isinstance(zoning, Zoning) else load_zoning(zoning)
    by_field, by_layer = _resolve_by(z, by, by_layer)
    forest = forest_classes if forest_classes is not None else (tset.forest_classes if tset else None)
    grass = grass_classes if grass_classes is not None else (tset.grass_classes if tset else None)
    table = compute_indicators(
        z, by_layer=by_layer, by_field=by_field, raster=raster, forest_classes=forest, grass_classes=grass, raster_band=band
    )
    if tset is not None:
        table = apply_targets(table, tset)
    write_csv(csv_path, table.frame, force=force)
    with atomic_output(json_path, force=force) as tmp:
        tmp.write_text(json.dumps(table.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    _print(table, console)
    return table


@click.command("indicators")
@zoning_option
@click.option(
    "--targets",
    "-t",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Targets YAML (指标目标); default for the bundled demo: the 连州 plan's targets.",
)
@click.option("--by", "by", default=None, help="Sub-areas: a boundary field, or an extra layer such as town (按乡镇等分区统计).")
@click.option("--by-layer", default=None, help="Sub-areas from an extra polygon layer of the package (e.g. town).")
@click.option(
    "--raster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Land-cover GeoTIFF for 森林覆盖率/林草覆盖率 (exact-fraction zonal statistics).",
)
@click.option("--forest-classes", default=None, help="Forest class codes in the raster, comma-separated (森林类别，如 10,20).")
@click.option("--grass-classes", default=None, help="Grass class codes, comma-separated (草地类别; adds 林草覆盖率).")
@click.option("--band", default=1, show_default=True, type=click.IntRange(min=1), help="Raster band with the classes.")
@out_dir_option
@force_option
def command(
    zoning: Path | None,
    targets: Path | None,
    by: str | None,
    by_layer: str | None,
    raster: Path | None,
    forest_classes: str | None,
    grass_classes: str | None,
    band: int,
    out: Path,
    force: bool,
) -> None:
    """Area indicators (红线面积及占比, 受保护地区占比, 覆盖率 …) against targets.

    Writes OUT/indicators.csv (UTF-8 BOM) and OUT/indicators.json; areas are
    ellipsoidal (CGCS2000/GRS80), layers dissolved and clipped to the boundary.
    The bundled demo is judged against the 连州 plan's targets unless
    --targets is given.
    """
    with output_set(out, force=force, inputs=[zoning or demo_zoning_path(), targets, raster], argv=command_line()) as oset:
        run_indicators(
            zoning,
            out=oset.staging,
            force=force,
            targets=targets,
            by=by,
            by_layer=by_layer,
            raster=raster,
            forest_classes=forest_classes,
            grass_classes=grass_classes,
            band=band,
        )
    click.echo(f"已写出 / wrote: {out / 'indicators.csv'}, {out / 'indicators.json'}, {out / 'run.json'}")
