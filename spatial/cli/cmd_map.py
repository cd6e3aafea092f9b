"""``ecozone map``: an interactive, self-contained zoning map (map.html)."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.context import working_on
from spatial.cli.options import force_option, site_options, zoning_option
from spatial.site_options import SiteOptions

__all__ = ["command"]


@click.command("map")
@zoning_option
@click.option(
    "--sites",
    "-s",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Screening output folder (ecozone screen --out) or a sites file to plot (选址结果目录或地块文件).",
)
@click.option(
    "--out", "-o", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output HTML file, e.g. map.html (输出文件)."
)
@click.option(
    "--basemap",
    type=click.Choice(["none", "osm", "amap", "tianditu"], case_sensitive=False),
    default="none",
    show_default=True,
    help="Basemap: none (default: the zoning itself, offline), osm, amap (高德, overlays shifted to GCJ-02), tianditu (天地图, needs a key).",
)
@click.option(
    "--tianditu-key",
    envvar="ECOZONE_TIANDITU_KEY",
    default=None,
    help="天地图 key for --basemap tianditu (or env ECOZONE_TIANDITU_KEY).",
)
@site_options
@force_option
def command(
    zoning: Path | None, sites: Path | None, out: Path, basemap: str, tianditu_key: str | None, site_opts: SiteOptions, force: bool
) -> None:
    """Draw the zoning layers (and screened sites) as one offline HTML map (分区管控图)."""
    from maps.zoning_map import basemap_spec, save_map
    from spatial.output import read_screening
    from spatial.outset import single_output
    from spatial.zoning import load_zoning

    # fail fast, before loading anything: existing output, an input in the way, missing 天地图 key
    with single_output(out, force=force, inputs=[zoning, sites]):
        basemap_spec(basemap, tianditu_key)
        working_on("zoning", zoning)
        z = load_zoning(zoning)
        working_on("sites", sites)
        result = read_screening(sites, site_opts) if sites is not None else None
        working_on("outputs", out)
        path = save_map(z, out, result, basemap=basemap, tianditu_key=tianditu_key, force=force)
    size = path.stat().st_size
    n = len(result.sites) if result is not None else 0
    click.echo(
        f"已写出地图 / map written: {path} ({size / 1e6:.1f} MB; {len(z.layers)} 个图层 layers"
        + (f", {n} 处地块 sites" if n else "")
        + ")"
    )
