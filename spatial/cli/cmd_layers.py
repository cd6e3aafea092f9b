"""``ecozone layers``: what a zoning package holds and how it was read."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from spatial.cli.context import working_on
from spatial.cli.options import zoning_option
from spatial.crs import describe_crs
from spatial.zoning import display_path, load_zoning

__all__ = ["command"]


@click.command("layers")
@zoning_option
def command(zoning: Path | None) -> None:
    """List layers, feature counts, CRS and field mapping (图层清单)."""
    working_on("zoning", zoning)
    z = load_zoning(zoning)
    console = Console(width=max(Console().width, 140))
    table = Table(title=f"{display_path(z.path)}  →  working CRS 工作坐标系: {describe_crs(z.crs)}")
    for col in ("layer 图层", "名称", "features", "source 来源", "source CRS", "fields 字段映射"):
        table.add_column(col)
    for s in z.sources:
        spec = z.spec(s.layer)
        fields = ", ".join(f"{k}←{v}" for k, v in s.fields.items()) or "—"
        src = Path(s.path).name + (f":{s.source_layer}" if s.source_layer else "")
        table.add_row(s.layer, spec.label_zh, str(s.n_features), src, s.crs.split(" ")[0], fields)
    console.print(table)
