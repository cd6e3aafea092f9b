"""``ecozone screen``: verdicts for proposed project sites."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spatial.cli.context import working_on
from spatial.cli.helpers import print_summary, print_written
from spatial.cli.options import (
    as_of_option,
    command_line,
    force_option,
    major_project_option,
    out_dir_option,
    rules_option,
    site_options,
    zoning_option,
)
from spatial.cli.progress import stage_bars
from spatial.errors import InputError
from spatial.job import ALL_PRODUCTS, STAGES, SUMMARY_SITES, TABLES_ONLY, ScreeningJob, parse_products
from spatial.project_types import VERDICT_RANK, VERDICT_ZH
from spatial.screening import RunOptions
from spatial.site_options import SiteOptions

__all__ = ["command"]


@click.command("screen")
@click.argument("sites", type=click.Path(exists=True, path_type=Path))
@zoning_option
@rules_option
@site_options
@out_dir_option
@force_option
@click.option("--fail-on", type=click.Choice(["prohibited", "restricted"]), default=None, help="Exit 3 when any site reaches this verdict.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gpkg", "parquet"]),
    default=None,
    help="Spatial output: screening.gpkg or sites/hits.parquet (default: GeoParquet when SITES is .parquet or has more than 100 000 sites, else GeoPackage).",
)
@click.option(
    "--no-map",
    is_flag=True,
    help="Do not write map.html, report.html or report.xlsx, nor report.docx, report.pdf and the 附图/ maps (faster); sites.csv, hits.csv and the spatial output are still written (不生成地图和报告).",
)
@click.option(
    "--products",
    "products_text",
    default=None,
    metavar="LIST",
    help=(
        "Outputs to write, comma-separated (输出内容): tables (sites/hits/rules.csv), gpkg (screening.gpkg or GeoParquet), map, "
        "html, docx, xlsx, pdf, figures (per-site 附图 insets), report (= html,docx,xlsx,pdf,figures), report-full "
        f"(a section for every site; by default above {SUMMARY_SITES} sites the report covers only the sites that are not 符合), all. "
        "Default: all."
    ),
)
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True, help="Run here (vectorised, multi-threaded) or on a Dask cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Dask: local worker processes (default 2).")
@click.option(
    "--scheduler",
    envvar="ECOZONE_DASK_SCHEDULER",
    default=None,
    help="Dask: address of an existing scheduler, e.g. tcp://10.0.0.5:8786 (env ECOZONE_DASK_SCHEDULER).",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Local engine threads (default: usable cores, env ECOZONE_THREADS).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=250_000, show_default=True, help="Sites screened per chunk (bounds memory).")
@click.option("--no-cache", is_flag=True, help="Load the zoning afresh and do not use or write the zoning cache (分区数据缓存).")
@click.option("--adcode", default=None, help="Adcode of the zoning's area (行政区划代码) when its boundary has none: decides which provincial/local rules apply.")
@as_of_option
@major_project_option
@click.option("--lists", "lists", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="Published 准入清单 (XLSX/CSV/DOCX) read into unit rules; repeatable (生态环境准入清单).")
@click.option("--list-overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="YAML/CSV corrections of the lists' clause parses (清单解析更正, see `ecozone lists review`).")
def command(
    sites: Path,
    zoning: Path | None,
    rules: Path | None,
    site_opts: SiteOptions,
    out: Path,
    force: bool,
    fail_on: str | None,
    fmt: str | None,
    no_map: bool,
    products_text: str | None,
    engine: str,
    workers: int | None,
    scheduler: str | None,
    threads: int | None,
    chunk_size: int,
    no_cache: bool,
    adcode: str | None,
    as_of: str | None,
    major_project: str | None,
    lists: tuple[Path, ...],
    list_overrides: Path | None,
) -> None:
    """Screen project SITES against the zoning (选址符合性筛查).

    SITES is a file (CSV/XLSX, 坐标文件 TXT, GPKG, SHP, KML, GeoParquet …) or a
    folder: every sites file in it is screened in one run, ids made unique.

    \b
    Large runs: the zoning is cached after the first load (--no-cache to skip),
    sites are screened in chunks on all cores, GeoParquet is read and written
    (--format parquet).  --engine dask spreads the sites over a Dask cluster:
    a local one (--workers N) or an existing one (--scheduler ADDRESS).
    """
    if engine == "local" and (workers or scheduler):
        click.echo("提示：--workers/--scheduler 只用于 --engine dask，已忽略。 / --workers/--scheduler only apply to --engine dask", err=True)
    dask = {k: v for k, v in {"workers": workers, "scheduler": scheduler}.items() if v is not None} if engine == "dask" else {}
    run = RunOptions(engine=engine, engine_options=dask, threads=threads, chunk_size=chunk_size, as_of=as_of, major_project=major_project)
    if no_map and products_text:
        raise InputError("--no-map 与 --products 不能同时使用（--no-map 即 --products tables,gpkg）。", "--no-map and --products exclude each other (--no-map is --products tables,gpkg)")
    products = TABLES_ONLY if no_map else parse_products(products_text) if products_text else ALL_PRODUCTS
    job = ScreeningJob(
        sites, zoning, rules, site_opts, products=products, fmt=fmt, run_options=run, adcode=adcode, use_cache=not no_cache, lists=lists,
        list_overrides=list_overrides,
    )  # fmt: skip
    with stage_bars(STAGES) as on_stage:
        outcome = job.run(out, force=force, argv=command_line(), stage=working_on, notify=lambda m: click.echo(m, err=True), on_stage=on_stage)
    result = outcome.result
    print_summary(result)
    print_written(outcome.files)
    if fail_on and (result.sites["verdict"].map(VERDICT_RANK) >= VERDICT_RANK[fail_on]).any():
        click.echo(f"存在“{VERDICT_ZH[fail_on]}”及以上结论的地块 / sites at or above {fail_on}: exit 3", err=True)
        sys.exit(3)

