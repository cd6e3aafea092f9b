"""``ecozone compare``: what changes for the same sites under another zoning or catalogue (方案比选)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from spatial.cache import load_zoning_cached
from spatial.cli.context import working_on
from spatial.cli.options import ZoningPath, command_line, force_option, out_dir_option, site_options
from spatial.errors import InputError
from spatial.io import atomic_output, write_csv
from spatial.job import ScreeningJob
from spatial.output import COMPARE_FILES
from spatial.outset import output_set
from spatial.rules import load_rules
from spatial.site_options import SiteOptions
from spatial.zoning import demo_zoning_path

__all__ = ["command"]


@click.command("compare")
@click.argument("sites", type=click.Path(exists=True, path_type=Path))
@click.option("--zoning", "-z", "zonings", multiple=True, type=ZoningPath(), help="Zoning before, then after (给两次；一次则前后相同); `demo` names the bundled 连州 demo.")
@click.option("--rules", "-r", "rules", multiple=True, type=click.Path(exists=True, path_type=Path), help="Catalogue before, then after (给两次；一次则前后相同).")
@site_options
@out_dir_option
@force_option
@click.option("--no-map", is_flag=True, help="Skip changes.html.")
def command(
    sites: Path,
    zonings: tuple[Path | None, ...],
    rules: tuple[Path, ...],
    site_opts: SiteOptions,
    out: Path,
    force: bool,
    no_map: bool,
) -> None:
    """Screen SITES under two zonings and/or two catalogues and list what changes (what-if 比选).

    \b
    Example: ecozone compare sites.csv -z old.gpkg -z new.gpkg --out cmp
    changes.csv lists each site whose verdict or findings change, with the
    rule and feature that caused it; with two zonings the red-line change is
    audited too ("调出 X km²，使 N 个项目由禁止变为符合").
    """
    from spatial.compare import compare_results

    if len(zonings) > 2 or len(rules) > 2 or (len(zonings) < 2 and len(rules) < 2):
        raise InputError(
            "请给两个 --zoning（调整前、调整后）和/或两个 --rules（修订前、修订后）。",
            "give --zoning twice (before, after) and/or --rules twice",
        )
    zonings = tuple(z if z is not None else demo_zoning_path() for z in zonings)  # `-z demo` is the bundled package
    with output_set(out, force=force, inputs=[sites, *zonings, *rules], argv=command_line()) as oset:
        files = {k: oset.staging / v for k, v in COMPARE_FILES.items() if not (no_map and k == "map")}
        working_on("zoning", zonings[0] if zonings else None)
        zb = load_zoning_cached(zonings[0] if zonings else None)
        za = load_zoning_cached(zonings[1]) if len(zonings) == 2 else zb
        rb = load_rules(rules[0] if rules else None)
        ra = load_rules(rules[1]) if len(rules) == 2 else rb
        before, after = (ScreeningJob(sites, z, r, site_opts).screen(stage=working_on) for z, r in ((zb, rb), (za, ra)))
        result = compare_results(before, after, (zb, za))
        write_csv(files["csv"], pd.DataFrame(result.changes.drop(columns="geometry")), force=force)
        if result.redline is not None:
            write_csv(files["redline"], pd.DataFrame([{k: v for k, v in result.redline.to_dict().items() if k != "breakdown" and k != "notes"}]), force=force)
        else:
            files.pop("redline")
        with atomic_output(files["summary"], force=force) as tmp:
            tmp.write_text(result.summary_zh + "\n", encoding="utf-8")
        if "map" in files:
            from maps.siting_map import save_sites_map

            ch = result.changes.assign(
                verdict=result.changes["verdict_after"],
                verdict_zh=result.changes["verdict_after_zh"],
                summary_zh=result.changes["verdict_before_zh"] + " → " + result.changes["verdict_after_zh"] + "：" + result.changes["cause_zh"],
            )
            save_sites_map(za, ch, files["map"], title="方案比选：结论变化的项目", force=force)
    click.echo(result.summary_zh)
    for p in files.values():
        click.echo(f"  → {out / p.name}")
