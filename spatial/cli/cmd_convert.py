"""``ecozone convert``: move whole vector files between CRSs (incl. GCJ-02/BD-09)."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.context import working_on
from spatial.cli.options import force_option
from spatial.convert import convert_file
from spatial.outset import single_output

__all__ = ["command"]


@click.command("convert")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--from", "from_crs", default=None, help="Source CRS: gcj02 (高德/腾讯), bd09 (百度), EPSG:…; default: the file's own.")
@click.option("--to", "to_crs", default="EPSG:4326", show_default=True, help="Target CRS: EPSG:…, cgcs2000, wgs84, gcj02, bd09.")
@click.option("--encoding", default=None, help="Text encoding of the input (e.g. gbk) when the guess is wrong.")
@force_option
def command(src: Path, dst: Path, from_crs: str | None, to_crs: str, encoding: str | None, force: bool) -> None:
    """Convert every vertex of SRC into DST, attributes kept (坐标转换)."""
    working_on("input", src)
    with single_output(dst, force=force, inputs=[src]):
        counts = convert_file(src, dst, src=from_crs, dst=to_crs, encoding=encoding, force=force)
    for name, n in counts.items():
        click.echo(f"{name}: {n} 个要素 features → {dst}")
