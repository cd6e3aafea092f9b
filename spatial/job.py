"""One screening job: what every caller runs, from reading the inputs to the last output file.

``ecozone screen``, ``ecozone demo``, ``compare``, ``alternatives`` and the
web worker build a :class:`ScreeningJob` and call it; none of them reads
sites or decides what to write.  The job is split where a caller may want
to stop or wait:

1. :meth:`ScreeningJob.load` — the readers (zoning, rules, sites as
   :class:`~spatial.site_options.SiteOptions` say), checked and reprojected;
2. :meth:`ScreeningJob.screen` — the verdicts (:class:`ScreeningResult`),
   on the engine the job's :class:`~spatial.screening.RunOptions` names (``engine="local"`` or ``"dask"``);
3. :meth:`ScreeningJob.write` — the products asked for (:class:`Product`)
   into a directory; :meth:`ScreeningJob.write_set` does it as one output set
   (lock, staging, ``run.json``, swap).

:meth:`ScreeningJob.run` does all three.  Because the verdicts come back
before any file is written, a caller can show them first and write the
files afterwards (or never).
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from maps.model import output_model
from spatial.colnames import RENAMES_ATTR
from spatial.engine.assemble import ScreeningResult
from spatial.engine.parallel import start_forked
from spatial.output import visual_outputs, write_screening
from spatial.outset import output_set
from spatial.pgzoning import is_db_url
from spatial.rules import RuleSet, load_rules
from spatial.screening import RunOptions, prepare_inputs, screen_loaded
from spatial.site_options import SiteOptions
from spatial.sites import SiteFile, input_sha256, read_sites_files
from spatial.zoning import Zoning

__all__ = [
    "Product",
    "ScreeningJob",
    "JobOutcome",
    "Loaded",
    "MAP_MAX_SITES",
    "SUMMARY_SITES",
    "SUMMARY_SECTIONS",
    "ALL_PRODUCTS",
    "TABLES_ONLY",
    "REPORT_FORMATS",
    "PRODUCT_GROUPS",
    "parse_products",
    "STAGES",
    "OnStage",
]

#: Above this many sites the map and the report are skipped (a browser cannot draw them usefully).
MAP_MAX_SITES = 20_000
#: Above this many sites the report is a summary (:mod:`maps.summary`): every site in the tables, a section
#: only for sites that are not 符合 (``report-full`` asks for every site's section).
SUMMARY_SITES = 200
#: From this many sites a report's map and tables are written by a forked copy beside the report (for 15 000
#: sites they take ~6 s; for the 41-site demo ~0.5 s, less than a third process costs the 附图 on two cores).
FORK_WRITERS_SITES = 1000
#: A summary report analyses at most this many sites one by one (not 符合, worst verdict first).
SUMMARY_SECTIONS = 100


class Product(enum.StrEnum):
    """What a screening can write; the values are the names ``--products`` takes (files in :data:`spatial.output.FILES`)."""

    #: ``sites.csv``, ``hits.csv`` and ``rules.csv``.
    TABLES = "tables"
    #: The spatial output: ``screening.gpkg``, or ``sites.parquet`` + ``hits.parquet`` (``--format``).
    GPKG = "gpkg"
    #: ``map.html``.
    MAP = "map"
    #: ``report.html`` (and the 附图 folder, as for every report format).
    HTML = "html"
    #: ``report.docx``.
    DOCX = "docx"
    #: ``report.xlsx``.
    XLSX = "xlsx"
    #: ``report.pdf`` (typeset by Typst, or printed from the HTML by a local Chromium: ``maps.report.PDF_ENGINES``).
    PDF = "pdf"
    #: Per-site inset maps in the report (the slow part of a report).
    FIGURES = "figures"
    #: A section for every site, also above :data:`SUMMARY_SITES` sites (not written by default).
    REPORT_FULL = "report-full"


#: The report's file formats.
REPORT_FORMATS = frozenset({Product.HTML, Product.DOCX, Product.XLSX, Product.PDF})
#: Everything ``ecozone screen`` writes by default (a summary report above :data:`SUMMARY_SITES` sites).
ALL_PRODUCTS = frozenset(Product) - {Product.REPORT_FULL}
#: The tables and the spatial output only (``--no-map``).
TABLES_ONLY = frozenset({Product.TABLES, Product.GPKG})
#: Products that draw (skipped above :data:`MAP_MAX_SITES` sites).
VISUAL = frozenset({Product.MAP, Product.FIGURES, *REPORT_FORMATS})
#: Names ``--products`` takes for several products at once.
PRODUCT_GROUPS: dict[str, frozenset[Product]] = {
    "all": ALL_PRODUCTS,
    "report": REPORT_FORMATS | {Product.FIGURES},
}


def parse_products(text: str | Iterable[str]) -> frozenset[Product]:
    """Read a product list (``"tables,gpkg,html"``; group names :data:`PRODUCT_GROUPS` allowed).

    Parameters
    ----------
    text : str or iterable of str
        Comma- or space-separated names, or the names.

    Returns
    -------
    frozenset of Product
        The products.

    Raises
    ------
    InputError
        An unknown name (the message lists the known ones), or nothing asked for.
    """
    from spatial.errors import InputError

    names = text.replace(",", " ").split() if isinstance(text, str) else [str(t).strip() for t in text]
    out: set[Product] = set()
    known = [p.value for p in Product] + list(PRODUCT_GROUPS)
    for raw in names:
        name = raw.strip().lower().replace("_", "-")
        if name in PRODUCT_GROUPS:
            out |= PRODUCT_GROUPS[name]
        elif name in {p.value for p in Product}:
            out.add(Product(name))
        else:
            raise InputError(
                f"--products 中的“{raw}”不是已知的输出，可选：{'、'.join(known)}（以逗号分隔）。",
                f"--products: unknown product {raw!r}; choose from {', '.join(known)} (comma-separated)",
            )
    if not out - {Product.REPORT_FULL}:
        raise InputError(
            f"--products 未指定任何输出文件，可选：{'、'.join(known)}。",
            f"--products names no output; choose from {', '.join(known)}",
        )
    return frozenset(out)


Notify = Callable[[str], None]
Stage = Callable[[str, Any], None]
#: ``on_stage(stage, fraction)``: the job has done ``fraction`` (0-1) of ``stage``, a key of :data:`STAGES`.
OnStage = Callable[[str, float], None]
#: The stages a job reports through ``on_stage``, in order, with the names the CLI and the web page show.
STAGES: dict[str, str] = {"read": "读取", "screen": "筛查", "draw": "出图", "report": "报告"}


@dataclass
class Loaded:
    """The job's inputs after the readers: sites prepared in the zoning's CRS, the zoning, the rules, the sites' audit."""

    sites: gpd.GeoDataFrame
    zoning: Zoning
    rules: RuleSet
    audit: dict[str, Any]


@dataclass
class JobOutcome:
    """What a run gave: the verdicts, the files written (key -> final path) and what was skipped, and why."""

    result: ScreeningResult
    files: dict[str, Path] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _record_lists(oset: Any, result: ScreeningResult) -> None:
    """Trace the 准入清单 the rules came with in ``run.json`` (file, hash, counts, corrections)."""
    rules = getattr(result, "rules", None)
    if rules is not None and "lists" in rules.extra:
        oset.record["lists"] = rules.extra["lists"]
    # user columns renamed beside ecozone's own (case-insensitive clash): the mapping goes with the set
    oset.record["column_renames"] = dict(result.sites.attrs.get(RENAMES_ATTR, {}))


def _quiet(_: str) -> None:
    """Drop a note (the default for callers without a console)."""


def _no_stage(_: str, __: Any) -> None:
    """Ignore a stage change (the default)."""


def _no_progress(_: str, __: float) -> None:
    """Ignore a stage's progress (the default)."""


@dataclass(frozen=True)
class ScreeningJob:
    """A whole screening run: inputs, how to read them, the engine and the products wanted.

    Attributes
    ----------
    sites : path-like, GeoDataFrame or sequence of SiteFile
        A sites file or folder, a table of sites, or several files with the
        names their users know them by (one id namespace, as for a folder).
    zoning : Zoning or path-like, optional
        Loaded zoning or a package path (default: the bundled demo).
    rules : RuleSet or path-like, optional
        Rule catalogue (default: the shipped one); resolved for the zoning's area.
    options : SiteOptions
        How to read the sites.
    products : frozenset of Product
        What to write (default: everything but ``report-full``: above
        :data:`SUMMARY_SITES` sites the report is a summary).
    fmt : {'gpkg', 'parquet'}, optional
        Spatial output format (default: by size and input, see :func:`spatial.output.screening_format`).
    run_options : RunOptions
        How the engine runs: ``engine`` (``local`` or ``dask``) and its options,
        threads, chunk size, screening date (``as_of``), 国家重大项目 status.
    adcode : str, optional
        Adcode for the rules when the boundary has none.
    lists : sequence of path-like
        Published 准入清单 files read into unit rules (none: the lists the zoning manifest names).
    list_overrides : path-like, optional
        The bureau's corrections of the lists' clause parses.
    use_cache : bool
        Load a zoning path through the disk cache.
    indicators : Any
        Indicators for the report (the demo's).
    """

    sites: Any
    zoning: Zoning | str | os.PathLike[str] | None = None
    rules: RuleSet | str | os.PathLike[str] | None = None
    options: SiteOptions = field(default_factory=SiteOptions)
    products: frozenset[Product] = ALL_PRODUCTS
    fmt: str | None = None
    run_options: RunOptions = field(default_factory=RunOptions)
    adcode: str | None = None
    lists: Sequence[str | os.PathLike[str]] = ()
    list_overrides: str | os.PathLike[str] | None = None
    use_cache: bool = False
    indicators: Any = None

    def __post_init__(self) -> None:
        """Read the products as :class:`Product` (names and group names are accepted)."""
        object.__setattr__(self, "products", parse_products([str(p) for p in self.products]))

    # ------------------------------------------------------------------ inputs

    def input_paths(self) -> list[Path]:
        """Return the input files on disk (for ``run.json`` and the refusal to write over an input)."""
        from spatial.rules import default_rules_path
        from spatial.zoning import demo_zoning_path

        out: list[Path] = [Path(f.path) for f in self._files()]
        if isinstance(self.sites, (str, os.PathLike)):
            out.append(Path(self.sites))
        if not isinstance(self.zoning, Zoning) and not is_db_url(self.zoning):  # a database package is no file
            out.append(Path(self.zoning) if self.zoning is not None else demo_zoning_path())
        if not isinstance(self.rules, RuleSet):
            out.append(Path(self.rules) if self.rules is not None else default_rules_path())
        out += [Path(p) for p in (*self.lists, *([self.list_overrides] if self.list_overrides else []))]
        return out

    def load_zoning(self, *, stage: Stage = _no_stage, notify: Notify = _quiet) -> Zoning:
        """Load the zoning (through the cache when :attr:`use_cache`)."""
        if isinstance(self.zoning, Zoning):
            return self.zoning
        stage("zoning", self.zoning)
        if not self.use_cache:
            from spatial.zoning import load_zoning

            return load_zoning(self.zoning)
        from spatial.cache import load_zoning_cached

        info: dict[str, Any] = {}
        z = load_zoning_cached(self.zoning, info=info)
        if info.get("status") in ("hit", "miss", "rebuilt"):
            notify(f"分区数据缓存 zoning cache: {info['status']} ({info.get('seconds', 0):.1f} s)")
        return z

    def load_rules(self, zoning: Zoning, *, stage: Stage = _no_stage) -> RuleSet:
        """Load the rules and the 准入清单; an explicit :attr:`adcode` fixes the area (else the engine resolves the zoning's own)."""
        if isinstance(self.rules, RuleSet):
            return self.rules
        from spatial.list_rules import attach_lists

        stage("rules", self.rules)
        if self.adcode:
            from spatial.jurisdiction import zoning_adcode

            code, note = zoning_adcode(zoning, self.adcode)
            rules = load_rules(self.rules, adcode=code, adcode_note=note, as_of=self.run_options.as_of)
        else:
            rules = load_rules(self.rules, as_of=self.run_options.as_of)
        return attach_lists(rules, list(self.lists), zoning, overrides=self.list_overrides)  # none given: the manifest's lists

    def _files(self) -> list[SiteFile]:
        """Return the named files the sites come from (none for a plain path or a table)."""
        if isinstance(self.sites, SiteFile):
            return [self.sites]
        if isinstance(self.sites, Sequence) and not isinstance(self.sites, str):
            return list(self.sites)
        return []

    def _sites_input(self) -> Any:
        """Return the sites as the readers take them (several named files joined first into one id namespace)."""
        if isinstance(self.sites, SiteFile):  # one file: read exactly as the path itself would be
            return self.sites
        files = self._files()
        return read_sites_files(files, self.options) if files else self.sites

    def _record_inputs(self, audit: dict[str, Any]) -> None:
        """Name several files by their users' names in the audit (not the names they are stored under)."""
        files = self._files()
        if files and not isinstance(self.sites, SiteFile):  # one SiteFile: load_sites names it
            audit["path"] = "、".join(f.name for f in files)
            audit["sha256"] = "、".join(input_sha256(f.path) for f in files)

    def load(self, *, stage: Stage = _no_stage, notify: Notify = _quiet, on_stage: OnStage = _no_progress) -> Loaded:
        """Run the readers: zoning, rules, then the sites checked and reprojected.

        Parameters
        ----------
        stage : callable, optional
            Called with (stage name, input) as each reader starts.
        notify : callable, optional
            Called with notes for the user (cache status).
        on_stage : callable, optional
            Called with ``("read", fraction)`` as the readers advance.

        Returns
        -------
        Loaded
            Sites, zoning, rules (for the zoning's area) and the sites' audit.
        """
        on_stage("read", 0.0)
        zoning = self.load_zoning(stage=stage, notify=notify)
        on_stage("read", 0.5)
        rules = self.load_rules(zoning, stage=stage)
        on_stage("read", 0.7)
        stage("sites", self.sites if isinstance(self.sites, (str, os.PathLike)) else ", ".join(f.name for f in self._files()) or None)
        sites, zoning, rules, audit = prepare_inputs(self._sites_input(), zoning, rules, self.options)
        self._record_inputs(audit)
        on_stage("read", 1.0)
        return Loaded(sites, zoning, rules, audit)

    # ------------------------------------------------------------------ verdicts

    def screen(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        stage: Stage = _no_stage,
        notify: Notify = _quiet,
        on_stage: OnStage = _no_progress,
    ) -> ScreeningResult:
        """Read the inputs and screen them on the engine :attr:`run_options` names: the verdicts, nothing written.

        Parameters
        ----------
        progress : callable, optional
            Called with (done, total) chunks or partitions.
        stage, notify : callable, optional
            As for :meth:`load`.
        on_stage : callable, optional
            Called with ``(stage, fraction)`` through ``read`` and ``screen`` (:data:`STAGES`).

        Returns
        -------
        ScreeningResult
            The verdicts.
        """
        t0 = time.perf_counter()
        loaded = self.load(stage=stage, notify=notify, on_stage=on_stage)
        on_stage("screen", 0.0)

        def tick(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            on_stage("screen", done / max(total, 1))

        result = screen_loaded(loaded.sites, loaded.zoning, loaded.rules, loaded.audit, self.run_options, progress=tick, t0=t0)
        on_stage("screen", 1.0)
        return result

    # ------------------------------------------------------------------ products

    def drawn(self, result: ScreeningResult) -> tuple[frozenset[Product], list[str]]:
        """Return the products to write for this result and notes on what is skipped."""
        products = self.products
        notes: list[str] = []
        if products & VISUAL and len(result.sites) > MAP_MAX_SITES:
            products = products - VISUAL
            notes.append(
                f"地块超过 {MAP_MAX_SITES} 个，未生成 map.html/report.html（请用 GIS 打开空间输出）。"
                f" / more than {MAP_MAX_SITES} sites: map and report skipped, open the spatial output in a GIS"
            )
        return products, notes

    def write(
        self, result: ScreeningResult, out_dir: str | os.PathLike[str], *, force: bool = False, notify: Notify = _quiet, on_stage: OnStage = _no_progress
    ) -> dict[str, Path]:
        """Write the products asked for into ``out_dir`` (a staging directory or a plain folder).

        Parameters
        ----------
        result : ScreeningResult
            The verdicts (from :meth:`screen`).
        out_dir : path-like
            Directory.
        force : bool, default False
            Overwrite existing files.
        notify : callable, optional
            Called with a note per product skipped.
        on_stage : callable, optional
            Called with ``(stage, fraction)`` through ``draw`` (the 附图; the map when there is no report) and
            ``report`` (the report files; with a report, the map and the tables are written while the
            browser prints the PDF).

        Returns
        -------
        dict
            Output key (:data:`spatial.output.FILES`) -> written path.
        """
        products, notes = self.drawn(result)
        for note in notes:
            notify(note)
        files: dict[str, Path] = {}
        report = bool(products & REPORT_FORMATS)
        tables = bool(products & TABLES_ONLY)
        sections = None  # a summary report: the sites with a section
        if report and Product.REPORT_FULL not in products and len(result.sites) > SUMMARY_SITES:
            from maps.summary import section_ids

            sections = section_ids(result.sites, SUMMARY_SECTIONS)
            notify(
                f"地块超过 {SUMMARY_SITES} 个：报告为摘要（全部地块列入 report.xlsx 汇总表，逐个分析结论最严的 {len(sections)} 个非“符合”地块；"
                f"--products report-full 输出全部）。 / more than {SUMMARY_SITES} sites: summary report (all sites in report.xlsx, sections for the "
                f"{len(sections)} worst sites that are not 符合; --products report-full for all)"
            )
        model = output_model(result, report=report, sections=sections)  # what every writer needs from the lower modules, once
        share = 0.9 if tables or Product.MAP in products else 1.0  # the tables and the map follow the report files

        def write_map() -> dict[str, Path]:
            from maps.zoning_map import save_map

            return {"map": save_map(result.zoning, visual_outputs(out_dir)["map"], result=result, force=force)}

        def write_tables() -> dict[str, Path]:
            return write_screening(
                result, out_dir, force=force, fmt=self.fmt, tables=Product.TABLES in products, spatial=Product.GPKG in products,
                columns=model.user_columns, sites_path=self.sites if isinstance(self.sites, (str, os.PathLike)) else None,
            )  # fmt: skip

        if report:
            from maps.report import write_report

            formats = {p.value for p in products & REPORT_FORMATS}

            def report_stage(name: str, fraction: float) -> None:
                on_stage(name, fraction if name == "draw" else share * fraction)

            def map_and_tables() -> dict[str, Path]:
                done: dict[str, Path] = {}
                if Product.MAP in products:
                    done.update(write_map())
                if tables:
                    done.update(write_tables())
                return done

            # A large batch's map and tables are written by a forked copy beside the report (they need nothing
            # of it); otherwise, or when forking is not safe here, in this process while the PDF is made.
            beside = start_forked(map_and_tables, worth=len(result.sites) >= FORK_WRITERS_SITES and (tables or Product.MAP in products))

            def meanwhile() -> dict[str, Path]:
                on_stage("report", share * 0.85)
                return beside()

            files.update(
                write_report(
                    result, out_dir, indicators=self.indicators, force=force, formats=formats,
                    site_insets=Product.FIGURES in products, sections=sections, on_stage=report_stage, model=model, meanwhile=meanwhile,
                )
            )  # fmt: skip
        else:
            if Product.MAP in products:
                on_stage("draw", 0.0)
                files.update(write_map())
                on_stage("draw", 1.0)
            if tables:
                on_stage("report", 0.0)
                files.update(write_tables())
        on_stage("report", 1.0)
        return files

    def write_set(
        self,
        result: ScreeningResult,
        out: str | os.PathLike[str],
        *,
        force: bool = False,
        argv: Sequence[str] | None = None,
        inputs: Iterable[str | os.PathLike[str] | None] | None = None,
        notify: Notify = _quiet,
        on_stage: OnStage = _no_progress,
    ) -> dict[str, Path]:
        """Write the products as one output set in ``out`` (lock, staging, ``run.json``, swap).

        Parameters
        ----------
        result : ScreeningResult
            The verdicts.
        out : path-like
            Output directory.
        force : bool, default False
            Replace an existing output set.
        argv : sequence of str, optional
            Command line for ``run.json``.
        inputs : iterable of path-like, optional
            Input files (default: :meth:`input_paths`).
        notify, on_stage : callable, optional
            As for :meth:`write`.

        Returns
        -------
        dict
            Output key -> final path in ``out``.
        """
        ins = list(inputs) if inputs is not None else self.input_paths()
        with output_set(out, force=force, inputs=ins, argv=list(argv or ["ecozone"])) as oset:
            _record_lists(oset, result)
            files = self.write(result, oset.staging, force=force, notify=notify, on_stage=on_stage)
        return {k: oset.final(p) for k, p in files.items()}

    def run(
        self,
        out: str | os.PathLike[str],
        *,
        force: bool = False,
        argv: Sequence[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        stage: Stage = _no_stage,
        notify: Notify = _quiet,
        before_write: Callable[[ScreeningResult, Path], None] | None = None,
        on_stage: OnStage = _no_progress,
    ) -> JobOutcome:
        """Run the whole job into the output set ``out``: lock, read, screen, write, swap.

        The output set is opened first, so an existing ``out`` without
        ``force`` (or an ``out`` holding an input) stops the run before any work.

        Parameters
        ----------
        out : path-like
            Output directory.
        force : bool, default False
            Replace an existing output set.
        argv : sequence of str, optional
            Command line for ``run.json``.
        progress, stage, notify : callable, optional
            As for :meth:`screen` and :meth:`write`.
        before_write : callable, optional
            Called with the result and the staging directory once the verdicts
            are known, before any product is written (extra files of the caller).
        on_stage : callable, optional
            Called with ``(stage, fraction)`` through every stage of :data:`STAGES`.

        Returns
        -------
        JobOutcome
            The verdicts and the files written (final paths).
        """
        skipped: list[str] = []

        def note(text: str) -> None:
            skipped.append(text)
            notify(text)

        with output_set(out, force=force, inputs=self.input_paths(), argv=list(argv or ["ecozone"])) as oset:
            result = self.screen(progress=progress, stage=stage, notify=notify, on_stage=on_stage)
            _record_lists(oset, result)
            if before_write is not None:
                before_write(result, oset.staging)
            stage("outputs", out)
            files = self.write(result, oset.staging, force=force, notify=note, on_stage=on_stage)
        return JobOutcome(result, {k: oset.final(p) for k, p in files.items()}, skipped)
