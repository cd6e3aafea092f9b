"""``ecozone demo``: the whole pipeline on the bundled 连州 demo data."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.context import working_on
from spatial.cli.helpers import print_summary, run_indicators
from spatial.cli.options import as_of_option, command_line, force_option
from spatial.output import write_screening, write_visuals
from spatial.outset import output_set
from spatial.screening import screen
from spatial.zoning import demo_sites_path, demo_zoning_path, load_zoning

__all__ = ["command"]


@click.command("demo")
@click.option("--out", "-o", "out", type=click.Path(path_type=Path), default=Path("demo_out"), show_default=True, help="Output directory (输出目录).")
@force_option
@as_of_option
def command(out: Path, force: bool, as_of: str | None) -> None:
    """Run screening, indicators, map and report on the 连州 demo (演示)."""
    with output_set(out, force=force, inputs=[demo_zoning_path(), demo_sites_path()], argv=command_line()) as oset:
        stage = oset.staging
        click.echo(f"分区数据 zoning: {demo_zoning_path().name}（连州市 441882；边界、河流为真实数据，其余为合成演示数据）")
        working_on("zoning", None)
        zoning = load_zoning(demo_zoning_path())
        indicators = run_indicators(zoning, out=stage, force=force)
        working_on("sites", demo_sites_path().name)
        result = screen(demo_sites_path(), zoning, as_of=as_of)
        working_on("outputs", out)
        write_screening(result, stage, force=force)
        write_visuals(result, stage, force=force, indicators=indicators)
    print_summary(result)
    written = ["sites.csv", "hits.csv", "rules.csv", "screening.gpkg", "map.html", "report.html", "report.docx"]
    written += ["report.pdf"] if (out / "report.pdf").exists() else []
    written += ["report.xlsx", "附图/"] + ["indicators.csv"] + ["run.json"]
    click.echo(f"输出 outputs: {out}/ ({', '.join(written)})")
