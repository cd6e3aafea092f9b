"""``ecozone screen``: verdicts for proposed project sites."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spatial.cache import load_zoning_cached
from spatial.cli.context import working_on
from spatial.cli.helpers import print_summary, print_written
from spatial.cli.options import (
    as_of_option,
    command_line,
    force_option,
    major_project_option,
    out_dir_option,
    sites_crs_option,
    zoning_option,
)
from spatial.cli.progress import progress_bar
from spatial.errors import InputError
from spatial.output import screening_format, write_screening, write_visuals
from spatial.outset import output_set
from spatial.project_types import VERDICT_RANK, VERDICT_ZH
from spatial.rules import default_rules_path, load_rules
from spatial.screening import screen
from spatial.zoning import demo_zoning_path

__all__ = ["command", "MAP_MAX_SITES"]

#: Above this many sites map.html/report.html are skipped (a browser cannot draw them usefully).
MAP_MAX_SITES = 20_000


@click.command("screen")
@click.argument("sites", type=click.Path(exists=True, path_type=Path))
@zoning_option
@click.option("--rules", "-r", type=click.Path(exists=True, path_type=Path), default=None, help="Rule catalogue YAML (规则文件; default: shipped catalogue).")
@click.option("--project-type", "-t", default=None, help="Project type for every site, e.g. chemical / 化工.")
@click.option("--type-field", default=None, help="Field holding each site's project type (default project_type / 项目类型).")
@click.option(
    "--type-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML or CSV mapping your own type names to ecozone types, e.g. 镇级污水站: 污水处理厂 (类型对照表).",
)
@click.option("--strict-types", is_flag=True, help="Stop on unknown project types instead of screening them as `other` (未知类型报错).")
@click.option(
    "--xy-order",
    type=click.Choice(["survey", "gis"]),
    default=None,
    help="X/Y columns: survey = X is the northing (坐标成果表), gis = X is the easting; default: judged from the numbers.",
)
@click.option("--id-field", default=None, help="Field holding site ids (default site_id, else id, else row number).")
@sites_crs_option
@click.option("--layer", "--dxf-layer", "layer", default=None, help="Layer of a multi-layer sites file; the CAD layer of a DXF (图层/CAD 图层).")
@click.option("--sheet", default=None, help="One sheet of an XLSX workbook (default: every sheet with coordinate columns; 工作表).")
@click.option(
    "--coords",
    type=click.Choice(["lonlat", "xy"]),
    default=None,
    help="Which columns to use when a table has both 经度/纬度 and X/Y that disagree (坐标列).",
)
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
def command(
    sites: Path,
    zoning: Path | None,
    rules: Path | None,
    project_type: str | None,
    type_field: str | None,
    type_map: Path | None,
    strict_types: bool,
    xy_order: str | None,
    id_field: str | None,
    sites_crs: str | None,
    layer: str | None,
    sheet: str | None,
    coords: str | None,
    out: Path,
    force: bool,
    fail_on: str | None,
    fmt: str | None,
    no_map: bool,
    engine: str,
    workers: int | None,
    scheduler: str | None,
    threads: int | None,
    chunk_size: int,
    no_cache: bool,
    adcode: str | None,
    as_of: str | None,
    major_project: str | None,
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
    if project_type and type_field:
        raise InputError("--project-type 与 --type-field 只能选一个。", "use either --project-type or --type-field")
    if engine == "local" and (workers or scheduler):
        click.echo("提示：--workers/--scheduler 只用于 --engine dask，已忽略。 / --workers/--scheduler only apply to --engine dask", err=True)
    with output_set(out, force=force, inputs=[sites, zoning or demo_zoning_path(), rules or default_rules_path()], argv=command_line()) as oset:
        stage = oset.staging
        info: dict = {}
        working_on("zoning", zoning)
        z = load_zoning_cached(zoning, use_cache=not no_cache, info=info)
        if info.get("status") in ("hit", "miss", "rebuilt"):
            click.echo(f"分区数据缓存 zoning cache: {info['status']} ({info.get('seconds', 0):.1f} s)", err=True)
        working_on("rules", rules)
        if adcode:  # explicit: fixed; otherwise screen() resolves the rules for the zoning's own adcode
            from spatial.jurisdiction import zoning_adcode

            code, note = zoning_adcode(z, adcode)
            ruleset = load_rules(rules, adcode=code, adcode_note=note, as_of=as_of)
        else:
            ruleset = load_rules(rules, as_of=as_of)
        working_on("sites", sites)
        read_options = {k: v for k, v in {"sheet": sheet, "coords": coords}.items() if v is not None}
        opts = {
            "project_type": project_type,
            "id_field": id_field,
            "type_field": type_field,
            "sites_crs": sites_crs,
            "layer": layer,
            "xy_order": xy_order,
            "type_map": type_map,
            "strict_types": strict_types,
            "read_options": read_options,
        }
        with progress_bar("筛查 screening") as tick:
            if engine == "dask":
                from spatial.engine.dask import screen_dask

                if major_project is not None:
                    raise InputError("--major-project 目前只用于本地引擎；请在地块文件中加 major_project 列。", "--major-project works with the local engine only; add a major_project column")
                result = screen_dask(sites, z, ruleset, workers=workers, scheduler=scheduler, progress=tick, **opts)
            else:
                result = screen(sites, z, ruleset, progress=tick, threads=threads, chunk_size=chunk_size, major_project=major_project, **opts)
        working_on("outputs", out)
        files = write_screening(result, stage, force=force, fmt=screening_format(fmt, len(result.sites), sites))
        if not no_map and len(result.sites) > MAP_MAX_SITES:
            click.echo(
                f"地块超过 {MAP_MAX_SITES} 个，未生成 map.html/report.html（请用 GIS 打开空间输出）。"
                f" / more than {MAP_MAX_SITES} sites: map and report skipped, open the spatial output in a GIS",
                err=True,
            )
        elif not no_map:
            files.update(write_visuals(result, stage, force=force))
    print_summary(result)
    print_written({k: oset.final(p) for k, p in files.items()})
    if fail_on and (result.sites["verdict"].map(VERDICT_RANK) >= VERDICT_RANK[fail_on]).any():
        click.echo(f"存在“{VERDICT_ZH[fail_on]}”及以上结论的地块 / sites at or above {fail_on}: exit 3", err=True)
        sys.exit(3)

