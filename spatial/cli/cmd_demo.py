"""``ecozone demo``: the whole pipeline on the bundled 连州 demo data."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.context import working_on
from spatial.cli.helpers import print_summary, run_indicators
from spatial.cli.options import as_of_option, command_line, force_option
from spatial.cli.progress import stage_bars
from spatial.job import STAGES, ScreeningJob
from spatial.list_rules import attach_lists
from spatial.lists import demo_list_path
from spatial.output import FILES
from spatial.outset import RUN_FILE, output_set
from spatial.rules import load_rules
from spatial.screening import RunOptions
from spatial.zoning import coast_demo_sites_path, coast_demo_zoning_path, demo_sites_path, demo_zoning_path, load_zoning

__all__ = ["command"]


@click.command("demo")
@click.option("--out", "-o", "out", type=click.Path(path_type=Path), default=Path("demo_out"), show_default=True, help="Output directory (输出目录).")
@force_option
@as_of_option
@click.option("--coastal", is_flag=True, help="The coastal demo: 阳江市江城区, land and sea (海岸演示).")
def command(out: Path, force: bool, as_of: str | None, coastal: bool) -> None:
    """Run screening, indicators, map and report on the 连州 demo (演示), or the 江城区 coastal demo (--coastal)."""
    if coastal:
        _coastal(out, force, as_of)
        return
    with output_set(out, force=force, inputs=[demo_zoning_path(), demo_sites_path(), demo_list_path()], argv=command_line()) as oset:
        stage = oset.staging
        click.echo(f"分区数据 zoning: {demo_zoning_path().name}（连州市 441882；边界、河流为真实数据，其余为合成演示数据）")
        working_on("zoning", None)
        zoning = load_zoning(demo_zoning_path())
        indicators = run_indicators(zoning, out=stage, force=force)
        # The demo's 准入清单: sentences of the 连州 plan assigned to the demo units (DEMO_DATA.md).
        rules = attach_lists(load_rules(), demo_list_path(), zoning, scheme="plan-lianzhou")
        oset.record["lists"] = rules.extra["lists"]
        job = ScreeningJob(demo_sites_path(), zoning, rules, run_options=RunOptions(as_of=as_of), indicators=indicators)
        with stage_bars(STAGES) as on_stage:
            result = job.screen(stage=working_on, on_stage=on_stage)
            working_on("outputs", out)
            files = job.write(result, stage, force=force, on_stage=on_stage)
    print_summary(result)
    written = [oset.final(p).name for p in files.values()] + [FILES["indicators_csv"].name, RUN_FILE]
    click.echo(f"输出 outputs: {out}/ ({', '.join(written)})")


def _coastal(out: Path, force: bool, as_of: str | None) -> None:
    """Run the coastal demo: no 准入清单 workbook; the sea units carry their own 禁止类."""
    zpath, spath = coast_demo_zoning_path(), coast_demo_sites_path()
    with output_set(out, force=force, inputs=[zpath, spath], argv=command_line()) as oset:
        stage = oset.staging
        click.echo(f"分区数据 zoning: {zpath.name}（阳江市江城区 441702；县界、GSHHG 海岸线为真实数据，其余为合成演示数据）")
        working_on("zoning", None)
        zoning = load_zoning(zpath)
        indicators = run_indicators(zoning, out=stage, force=force)
        job = ScreeningJob(spath, zoning, load_rules(), run_options=RunOptions(as_of=as_of), indicators=indicators)
        result = job.screen(stage=working_on)
        working_on("outputs", out)
        files = job.write(result, stage, force=force)
    print_summary(result)
    written = [oset.final(p).name for p in files.values()] + [FILES["indicators_csv"].name, RUN_FILE]
    click.echo(f"输出 outputs: {out}/ ({', '.join(written)})")
