"""Options shared by several sub-commands, defined once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from spatial.pgzoning import is_db_url
from spatial.site_options import COORDS, XY_ORDERS, SiteOptions

__all__ = [
    "site_options", "rules_option", "as_of_option", "dem_min_coverage_option", "major_project_option", "ZoningRequired",
    "require_zoning", "zoning_option", "out_dir_option", "force_option", "sites_crs_option", "tolerance_option", "ZoningPath",
    "DEMO_NAMES", "COAST_DEMO_NAMES", "command_line",
]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])

#: Words that name the bundled 连州 demo zoning on the command line (a real path of that name wins).
DEMO_NAMES = ("demo", "演示")
#: Words that name the bundled coastal demo (阳江市江城区) on the command line.
COAST_DEMO_NAMES = ("demo-coast", "海岸演示")


class ZoningPath(click.Path):
    """An existing zoning path, or ``demo`` for the bundled 连州 demo (converted to its path)."""

    def __init__(self) -> None:
        super().__init__(exists=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the bundled demo's path for ``demo``, else the checked path."""
        if isinstance(value, str) and value.strip().lower() in DEMO_NAMES and not Path(value).exists():
            from spatial.zoning import demo_zoning_path

            return demo_zoning_path()
        if isinstance(value, str) and value.strip().lower() in COAST_DEMO_NAMES and not Path(value).exists():
            from spatial.zoning import coast_demo_zoning_path

            return coast_demo_zoning_path()
        if is_db_url(value):  # a package kept in PostGIS: checked when it is read
            return str(value).strip()
        return super().convert(value, param, ctx)


class ZoningRequired(click.UsageError):
    """No ``--zoning`` given: the bundled synthetic demo is never a silent default."""

    zh = (
        "未指定分区数据：请用 --zoning PATH 指定分区数据包（GeoPackage、zoning.yaml 清单或文件夹），"
        "或用 --zoning demo 明确使用内置的合成示范数据（不得用于审批）。"
    )

    def __init__(self, ctx: click.Context | None = None) -> None:
        super().__init__(
            "no zoning given: pass --zoning PATH (a GeoPackage, zoning.yaml manifest or folder), "
            "or --zoning demo for the bundled synthetic demo data (not for approvals)",
            ctx,
        )


def require_zoning(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Click callback: stop (exit 2) when no zoning was given, naming ``--zoning demo`` and ``--zoning PATH``.

    Parameters
    ----------
    ctx : click.Context
        Context.
    param : click.Parameter
        The option or argument.
    value : Any
        Its converted value.

    Returns
    -------
    Any
        ``value`` when given.
    """
    if value is None and not ctx.resilient_parsing:
        raise ZoningRequired(ctx)
    return value


def zoning_option(f: F | None = None, *, required: bool = True) -> Any:
    """``--zoning``: GeoPackage, zoning.yaml manifest or folder, or ``demo`` (no default).

    Parameters
    ----------
    f : callable, optional
        The command (when used as a bare decorator).
    required : bool, default True
        Without ``--zoning`` the command stops (exit 2) naming ``--zoning demo``
        and ``--zoning PATH``; False for commands where zoning is optional (``rules``).

    Returns
    -------
    callable
        The decorated command, or the decorator.
    """

    def deco(g: F) -> F:
        return click.option(
            "--zoning",
            "-z",
            type=ZoningPath(),
            default=None,
            callback=require_zoning if required else None,
            help="Zoning package: GeoPackage, zoning.yaml manifest, folder, postgresql://user@host/db?schema=NAME, `demo` for the bundled "
            "synthetic 连州 demo or `demo-coast` for the synthetic coastal 江城区 demo (分区数据；必填 required; demo outputs are stamped 示范数据).",
        )(g)

    return deco(f) if f is not None else deco


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


def rules_option(f: F) -> F:
    """``--rules``: the rule catalogue YAML (default: the shipped one)."""
    return click.option(
        "--rules", "-r", type=click.Path(exists=True, path_type=Path), default=None, help="Rule catalogue YAML (规则文件; default: shipped catalogue)."
    )(f)


#: The click options that make a :class:`SiteOptions`, in the order ``--help`` lists them.
_SITE_OPTIONS: list[Callable[[F], F]] = [
    click.option("--project-type", "-t", default=None, help="Project type for every site, e.g. chemical / 化工."),
    click.option("--type-field", default=None, help="Field holding each site's project type (default project_type / 项目类型)."),
    click.option(
        "--type-map",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="YAML or CSV mapping your own type names to ecozone types, e.g. 镇级污水站: 污水处理厂 (类型对照表).",
    ),
    click.option("--strict-types", is_flag=True, help="Stop on unknown project types instead of screening them as `other` (未知类型报错)."),
    click.option(
        "--xy-order",
        type=click.Choice(XY_ORDERS),
        default=None,
        help="X/Y columns: survey = X is the northing (坐标成果表), gis = X is the easting; default: judged from the numbers.",
    ),
    click.option("--id-field", default=None, help="Field holding site ids (default site_id, else id, else row number)."),
    sites_crs_option,
    click.option("--layer", "--dxf-layer", "layer", default=None, help="Layer of a multi-layer sites file; the CAD layer of a DXF (图层/CAD 图层)."),
    click.option("--sheet", default=None, help="One sheet of an XLSX workbook (default: every sheet with coordinate columns; 工作表)."),
    click.option(
        "--coords",
        type=click.Choice(COORDS),
        default=None,
        help="Which columns to use when a table has both 经度/纬度 and X/Y that disagree (坐标列).",
    ),
]


def site_options(f: F) -> F:
    """Add every sites-reading option and hand the command one :class:`SiteOptions` as ``site_opts``.

    Like rasterio's ``rio/options.py``: each command that reads sites takes
    the same options, declared once here.
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(*args, site_opts=SiteOptions(**{name: kwargs.pop(name) for name in SiteOptions.names()}), **kwargs)

    for option in reversed(_SITE_OPTIONS):
        wrapper = option(wrapper)
    return cast(F, wrapper)


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
