"""``ecozone indicators``: area indicators of a zoning package against targets."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.helpers import run_indicators
from spatial.cli.options import command_line, force_option, out_dir_option, zoning_option
from spatial.output import output_path
from spatial.outset import RUN_FILE, output_set
from spatial.zoning import demo_zoning_path

__all__ = ["command"]


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
    click.echo(f"已写出 / wrote: {output_path(out, 'indicators_csv')}, {output_path(out, 'indicators_json')}, {out / RUN_FILE}")
