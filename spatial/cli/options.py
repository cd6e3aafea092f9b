"""Options shared by several sub-commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["as_of_option", "dem_min_coverage_option", "major_project_option", "zoning_option", "out_dir_option", "force_option", "sites_crs_option", "tolerance_option", "ZoningPath", "DEMO_NAMES", "command_line"]

F = TypeVar("F", bound=Callable[..., Any])

#: Words that name the bundled 连州 demo zoning on the command line (a real path of that name wins).
DEMO_NAMES = ("demo", "演示")


class ZoningPath(click.Path):
    """An existing zoning path, or ``demo`` for the bundled 连州 demo (converted to None)."""

    def __init__(self) -> None:
        super().__init__(exists=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return None for ``demo`` (the commands' default), else the checked path."""
        if isinstance(value, str) and value.strip().lower() in DEMO_NAMES and not Path(value).exists():
            return None
        return super().convert(value, param, ctx)


def zoning_option(f: F) -> F:
    """``--zoning``: GeoPackage, zoning.yaml manifest or folder (default: bundled demo)."""
    return click.option(
        "--zoning",
        "-z",
        type=ZoningPath(),
        default=None,
        help="Zoning package: GeoPackage, zoning.yaml manifest or folder, or `demo` for the bundled 连州 demo (分区数据; default: demo).",
    )(f)


def dem_min_coverage_option(f: F) -> F:
    """``--dem-min-coverage``: share of the county a DEM's valid cells must cover (default 0.95)."""
    return click.option(
        "--dem-min-coverage",
        type=click.FloatRange(min=0, max=1),
        default=0.95,
        show_default=True,
        help="Share of the county the DEM's valid cells must cover (高程覆盖率下限); below 1, the rest is 坡度未知.",
    )(f)


def out_dir_option(f: F) -> F:
    """``--out DIR`` (required)."""
    return click.option(
        "--out", "-o", "out", type=click.Path(path_type=Path), required=True, help="Output directory (输出目录)."
    )(f)


def force_option(f: F) -> F:
    """``--force``: overwrite existing outputs."""
    return click.option("--force", is_flag=True, help="Overwrite existing outputs (覆盖已有输出).")(f)


def sites_crs_option(f: F) -> F:
    """``--sites-crs``: CRS of site coordinates."""
    return click.option(
        "--sites-crs",
        default=None,
        help="CRS of the sites when the file has none or lies: EPSG code, cgcs2000, wgs84, gcj02 (高德), bd09 (百度).",
    )(f)


def tolerance_option(f: F) -> F:
    """``--tolerance M2``: sliver area for validate; allowed net reduction for diff (m²)."""
    return click.option(
        "--tolerance",
        "tolerance_m2",
        type=click.FloatRange(min=0.0),
        default=1.0,
        show_default=True,
        help="Tolerance in m²: validate treats smaller gaps/overlaps as slivers; diff lets the net total fall by at most this (容差，平方米).",
    )(f)


def as_of_option(f: F) -> F:
    """``--as-of YYYY-MM-DD``: the screening date; rules cite the law in force that day (default today)."""
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="YYYY-MM-DD",
        help="Screening date (筛查日期): rules cite the law in force that day, e.g. 2026-01-01 for a project approved earlier (default today).",
    )(f)


def major_project_option(f: F) -> F:
    """``--major-project yes/no/unknown``: 国家重大项目 status for sites without their own ``major_project`` value."""
    return click.option(
        "--major-project",
        "major_project",
        type=click.Choice(["yes", "no", "unknown"]),
        default=None,
        help="国家重大项目 status for sites whose major_project column is empty (default unknown, never read as yes).",
    )(f)


def command_line() -> list[str]:
    """Return the ``ecozone ...`` command line being run (for run.json).

    Returns
    -------
    list of str
        ``["ecozone", sub-command, args...]``; ``["ecozone"]`` outside the CLI.
    """
    ctx = click.get_current_context(silent=True)
    return list(ctx.meta.get("ecozone.argv", ["ecozone"])) if ctx is not None else ["ecozone"]
