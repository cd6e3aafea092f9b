"""``ecozone alternatives``: positions of the same footprint that pass (替代选址)."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from spatial.cli.context import working_on
from spatial.cli.options import (
    command_line,
    dem_min_coverage_option,
    force_option,
    out_dir_option,
    rules_option,
    site_options,
    zoning_option,
)
from spatial.io import write_csv, write_vector_layers
from spatial.job import ScreeningJob
from spatial.output import ALTERNATIVES_FILES
from spatial.outset import output_set
from spatial.project_types import VERDICT_ZH
from spatial.screening import prepare_zoning
from spatial.site_options import SiteOptions
from spatial.suitability import resolve_rules

__all__ = ["command"]


@click.command("alternatives")
@click.argument("site", type=click.Path(exists=True, path_type=Path))
@zoning_option
@rules_option
@site_options
@click.option("--max-distance-km", type=click.FloatRange(min=0, max=500, min_open=True), default=20.0, show_default=True, help="Search radius (搜索半径，公里; at most 500).")
@click.option("--n", "n", type=click.IntRange(min=1, max=1000), default=5, show_default=True, help="Alternatives per site (每个地块的候选数; at most 1000).")
@click.option(
    "--allow",
    type=click.Choice(["compatible", "notice", "restricted"]),
    default="compatible",
    show_default=True,
    help="Worst verdict accepted: compatible 符合 / notice 关注 / restricted 有条件符合.",
)
@click.option("--rotate", "rotate", type=click.FloatRange(min=0, max=180, min_open=True), default=None, help="Also try rotations in steps of this many degrees (旋转步长).")
@click.option("--dem", type=click.Path(exists=True, path_type=Path), default=None, help="DEM GeoTIFF: steep candidates are 限制, ties ranked by slope.")
@click.option("--max-slope", type=click.FloatRange(min=0, max=90), default=25.0, show_default=True, help="Slope threshold (degrees).")
@dem_min_coverage_option
@out_dir_option
@force_option
@click.option("--no-map", is_flag=True, help="Skip alternatives.html.")
def command(
    site: Path,
    zoning: Path | None,
    rules: Path | None,
    site_opts: SiteOptions,
    max_distance_km: float,
    n: int,
    allow: str,
    rotate: float | None,
    dem: Path | None,
    max_slope: float,
    dem_min_coverage: float,
    out: Path,
    force: bool,
    no_map: bool,
) -> None:
    """Find positions for the footprint(s) in SITE where the verdict passes (替代选址).

    \b
    Candidates come from the suitability partition and are re-screened exactly
    by the screening engine; they are ranked by distance, then slope.  With
    nothing acceptable in the radius, the nearest 限制 position is shown.
    """
    from spatial.alternatives import find_alternatives

    if not site_opts.project_type:
        ctx = click.get_current_context()
        raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "project_type"))
    project_type = site_opts.project_type

    with output_set(out, force=force, inputs=[site, zoning, rules, dem], argv=command_line()) as oset:
        files = {k: oset.staging / v for k, v in ALTERNATIVES_FILES.items() if not (no_map and k == "map")}
        loaded = ScreeningJob(site, zoning, rules, site_opts, use_cache=True).load(stage=working_on)
        sites, z, ruleset = loaded.sites, loaded.zoning, loaded.rules
        terrain = None
        if dem is not None:
            from spatial.terrain import load_terrain_for_zoning

            terrain = load_terrain_for_zoning(dem, z, dem_min_coverage)
        angles: tuple[float, ...] = (0.0,)
        if rotate:
            import numpy as np

            angles = tuple(float(a) for a in np.arange(0.0, 180.0, rotate))
        ruleset = resolve_rules(ruleset, z)
        prepared = prepare_zoning(z, ruleset.types)
        searches = []
        for row in sites.itertuples():  # one search per input site (each is its own optimisation)
            s = find_alternatives(
                row.geometry, z, ruleset, project_type, site_id=str(row.site_id), max_distance_m=max_distance_km * 1000.0, n=n,
                allow=allow, rotations=angles, terrain=terrain, max_slope=max_slope, prepared=prepared,
            )  # fmt: skip
            searches.append(s)
            click.echo(s.message_zh if s.found else click.style(s.message_zh, fg="yellow"))
        cand = pd.concat([s.candidates for s in searches], ignore_index=True)
        cand = gpd.GeoDataFrame(cand, geometry="geometry", crs=z.crs)
        originals = sites[["site_id", "geometry"]].copy()
        originals["verdict"] = [s.verdict for s in searches]
        originals["message_zh"] = [s.message_zh for s in searches]
        write_vector_layers(files["gpkg"], {"candidates": cand, "sites": gpd.GeoDataFrame(originals, geometry="geometry", crs=z.crs)}, force=force)
        write_csv(files["csv"], pd.DataFrame(cand.drop(columns="geometry")), force=force)
        if "map" in files:
            from maps.siting_map import save_sites_map

            orig = originals.assign(name=originals["site_id"] + "（原址）", verdict_zh=originals["verdict"].map(VERDICT_ZH), summary_zh=originals["message_zh"])
            alt = cand.assign(
                site_id=cand["candidate_id"],
                name=cand["candidate_id"] + "（第" + cand["rank"].astype(str) + "名）",
                summary_zh="距原址 " + cand["distance_m"].round(0).astype(int).astype(str) + " m；" + cand["findings"].where(cand["findings"] != "", "无遗留问题"),
            )
            both = gpd.GeoDataFrame(pd.concat([orig, alt[["site_id", "name", "verdict", "verdict_zh", "summary_zh", "geometry"]]], ignore_index=True), geometry="geometry", crs=z.crs)
            save_sites_map(z, both, files["map"], title=f"替代选址：{project_type}", force=force)
    for p in files.values():
        click.echo(f"  → {out / p.name}")
