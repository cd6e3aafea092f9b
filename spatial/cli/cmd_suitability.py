"""``ecozone suitability``: where a project type may go (适宜性分区)."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.budget import check_raster
from spatial.cache import load_zoning_cached
from spatial.cli.context import working_on
from spatial.cli.options import command_line, dem_min_coverage_option, force_option, out_dir_option, rules_option, zoning_option
from spatial.cli.progress import progress_bar
from spatial.output import write_suitability
from spatial.outset import output_set
from spatial.rules import load_rules
from spatial.screening import prepare_zoning
from spatial.suitability import AREA_TOLERANCE, resolve_rules, suitability

__all__ = ["command"]


@click.command("suitability")
@click.option("--project-type", "-t", "project_types", multiple=True, required=True, help="Project type, repeatable (项目类型，可多次), e.g. -t 化工 -t 光伏.")
@zoning_option
@rules_option
@click.option("--dem", type=click.Path(exists=True, path_type=Path), default=None, help="DEM GeoTIFF (高程); slope above --max-slope becomes 限制.")
@click.option("--max-slope", type=click.FloatRange(min=0, max=90), default=25.0, show_default=True, help="Slope threshold in degrees (坡度阈值).")
@dem_min_coverage_option
@click.option("--resolution", type=click.FloatRange(min=0.01, min_open=False), default=30.0, show_default=True, help="GeoTIFF pixel size in metres (栅格分辨率).")
@out_dir_option
@force_option
@click.option("--no-map", is_flag=True, help="Skip suitability.html (the GPKG, GeoTIFF and CSV are still written).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Engine threads (default: usable cores).")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Dask scheduler address (调度器地址), e.g. tcp://host:8786: tiles are noded on its workers; same result as local.",
)
@click.option(
    "--raster-only",
    "raster_only",
    type=click.FloatRange(min=0.01, min_open=False),
    metavar="RES",
    default=None,
    help="Overview on RES-metre cells (栅格概览): the engine screens every cell centre; approximate to one cell; writes only the GeoTIFF and CSV.",
)
def command(
    project_types: tuple[str, ...],
    zoning: Path | None,
    rules: Path | None,
    dem: Path | None,
    max_slope: float,
    dem_min_coverage: float,
    resolution: float,
    out: Path,
    force: bool,
    no_map: bool,
    threads: int | None,
    scheduler: str | None,
    raster_only: float | None,
) -> None:
    """Partition the county by the verdict a site of each project type would get (选址适宜性分区).

    \b
    Every rule for the type counts (zones, buffers, distances, unit bans),
    evaluated by the same engine as `ecozone screen`: a site placed anywhere
    in an area gets that area's verdict.  Areas are ellipsoidal (GRS80).
    """
    with output_set(out, force=force, inputs=[zoning, rules, dem], argv=command_line()) as oset:
        working_on("rules", rules)
        ruleset = load_rules(rules)
        working_on("zoning", zoning)
        z = load_zoning_cached(zoning)
        if "boundary" in z.layers and len(z.layers["boundary"]):  # before any work: a 0.01 m raster is 10^13 cells
            check_raster(tuple(z.layers["boundary"].total_bounds), raster_only or resolution)
        terrain = None
        if dem is not None:
            from spatial.terrain import load_terrain_for_zoning

            working_on("dem", dem)
            terrain = load_terrain_for_zoning(dem, z, dem_min_coverage)
        ruleset = resolve_rules(ruleset, z)
        prepared = prepare_zoning(z, ruleset.types)
        if raster_only is not None:
            from maps.style import SUITABILITY_COLOURS
            from spatial.output import write_suitability_grid
            from spatial.suitability_raster import raster_suitability

            grids = []
            for t in project_types:
                with progress_bar(f"适宜性栅格 {t}") as tick:
                    grids.append(
                        raster_suitability(z, ruleset, t, raster_only, terrain=terrain, max_slope=max_slope, prepared=prepared, threads=threads, progress=tick)
                    )
            working_on("outputs", out)
            files = write_suitability_grid(grids, oset.staging, SUITABILITY_COLOURS, force=force)
            results = []
        else:
            grids = []
            results = []
            for t in project_types:
                with progress_bar(f"适宜性 {t}") as tick:
                    results.append(suitability(z, ruleset, t, terrain=terrain, max_slope=max_slope, prepared=prepared, threads=threads, progress=tick, scheduler=scheduler))
            working_on("outputs", out)
            from maps.style import SUITABILITY_COLOURS

            files = write_suitability(results, oset.staging, SUITABILITY_COLOURS, resolution=resolution, force=force, with_map=not no_map)
            if "map" in files:
                from maps.siting_map import save_suitability_map

                save_suitability_map(z, results, files["map"], force=force)
    for g in grids:
        parts = [f"{row.class_zh} {row.area_km2:.2f} km² ({row.pct:.1f}%)" for row in g.table.itertuples()]
        click.echo(f"{g.project_type_input}（{g.project_type}）：" + "；".join(parts) + f"；{g.cells} 个格网")
        for n in g.notes:
            click.echo(f"  {n}")
    for r in results:
        parts = [f"{row.class_zh} {row.area_km2:.2f} km² ({row.pct:.1f}%)" for row in r.table.itertuples()]
        total = r.table["area_km2"].sum() * 1e6
        off = abs(total - r.county_m2) / r.county_m2 if r.county_m2 else 0.0
        click.echo(f"{r.project_type_input}（{r.project_type}）：" + "；".join(parts) + f"；合计与行政区面积相差 {off:.2e}")
        if off > AREA_TOLERANCE:
            click.echo(f"警告：分类面积之和与行政区面积相差 {off:.2%}，超过 {AREA_TOLERANCE:.2%}。 / class areas do not add up to the county", err=True)
        for n in r.notes:
            click.echo(f"  {n}")
    for p in files.values():
        click.echo(f"  → {out / p.name}")
