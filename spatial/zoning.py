"""Load a zoning package into standard, reprojected, validated layers.

A zoning package is one of

* a GeoPackage whose layer names are standard names or recognised synonyms
  (``生态保护红线``, ``环境管控单元`` ...);
* a YAML manifest (``zoning.yaml``) mapping each standard layer to a file,
  with optional source ``layer``, ``fields``, ``values``, ``defaults``,
  ``encoding``, ``crs`` (only for files lacking one) and ``where``;
* a folder of vector files whose names are standard names or synonyms.

Every layer is normalised by its :mod:`layers` spec, reprojected to one
metric working CRS chosen from the boundary, and cleaned.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import yaml
from pyproj import CRS

from layers import LAYER_ORDER, REGISTRY, generic_spec, spec_for_layer_name
from layers.base import LayerSpec
from spatial.crs import WGS84, describe_crs, to_crs_geoms, working_crs_for
from spatial.errors import InputError, SchemaError
from spatial.geometry import clean_geometries
from spatial.io import bundled_path, file_sha256, list_layers, load_yaml, read_vector
from spatial.pgzoning import db_engine, db_entries, db_is_demo, frame_sha256, is_db_url, parse_db_url, read_db_layer
from spatial.sanity import check_boundary_plausible, check_declared_geographic, check_layer_extent, check_stray_vertices

__all__ = [
    "Zoning", "LayerSource", "load_zoning", "demo_zoning_path", "demo_sites_path", "display_path", "VECTOR_SUFFIXES", "DEMO_STAMP",
    "coast_demo_zoning_path", "coast_demo_sites_path",
    "is_demo_zoning", "package_entries", "read_entry",
]  # fmt: skip

#: Stamp on every output of a run on the bundled demo.
DEMO_STAMP = "示范数据（合成），不得用于审批 / synthetic demo data"

VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".kml", ".gml", ".fgb", ".parquet", ".geoparquet", ".dxf")
_MANIFEST_KEYS = {"path", "layer", "fields", "values", "defaults", "encoding", "crs", "force_crs", "where", "coverage"}


def demo_zoning_path() -> Path:
    """Path of the bundled 连州 demo zoning GeoPackage.

    Returns
    -------
    Path
        ``spatial/data/lianzhou_demo.gpkg`` inside the installed package.
    """
    return bundled_path("lianzhou_demo.gpkg")


def demo_sites_path() -> Path:
    """Path of the bundled 连州 demo project sites.

    Returns
    -------
    Path
        ``spatial/data/lianzhou_sites.gpkg`` inside the installed package.
    """
    return bundled_path("lianzhou_sites.gpkg")


def coast_demo_zoning_path() -> Path:
    """Path of the bundled coastal demo zoning (阳江市江城区, land and sea; scripts/build_coast_demo.py).

    Returns
    -------
    Path
        ``spatial/data/jiangcheng_coast_demo.gpkg`` inside the installed package.
    """
    return bundled_path("jiangcheng_coast_demo.gpkg")


def coast_demo_sites_path() -> Path:
    """Path of the bundled coastal demo project sites.

    Returns
    -------
    Path
        ``spatial/data/jiangcheng_coast_sites.gpkg`` inside the installed package.
    """
    return bundled_path("jiangcheng_coast_sites.gpkg")


def is_demo_zoning(zoning: Zoning | str | os.PathLike[str] | None) -> bool:
    """Return whether a package (loaded or a path) is the bundled synthetic demo.

    Parameters
    ----------
    zoning : Zoning, path-like or None
        Loaded package, its path, or None (the demo).

    Returns
    -------
    bool
        True for the bundled 连州 demo and the coastal demo (their outputs must be stamped :data:`DEMO_STAMP`).
    """
    if zoning is None:
        return True
    if isinstance(zoning, Zoning) and zoning.demo:
        return True
    demos = (demo_zoning_path(), coast_demo_zoning_path())
    path = zoning.path if isinstance(zoning, Zoning) else zoning
    if path is None:
        if isinstance(zoning, Zoning):  # read from the cache: compare the source files
            return any(bool(zoning.sources) and all(Path(s.path).name == d.name for s in zoning.sources) for d in demos)
        return True
    try:
        return any(Path(path).resolve() == d.resolve() for d in demos)
    except OSError:
        return False


def display_path(path: str | os.PathLike[str] | None) -> str:
    """Return a path as reports show it: as the user gave it, or the bundled demo's name.

    The bundled files live inside the installation (a site-packages path
    that means nothing to a reader of the report), so they are named instead.

    Parameters
    ----------
    path : path-like or None
        A package or sites path (None: the bundled demo zoning).

    Returns
    -------
    str
        E.g. ``data/zoning.gpkg`` or ``lianzhou_demo.gpkg（ecozone 内置数据 bundled）``.
    """
    if path is None:
        return f"{demo_zoning_path().name}（ecozone 内置数据 bundled）"
    return _display_path(os.fspath(path))


@functools.lru_cache(maxsize=4096)
def _display_path(path: str) -> str:
    """:func:`display_path` of one path, remembered: every screening's audit names each layer's file (two ``realpath`` calls each)."""
    p = Path(path)
    if p.resolve().parent == demo_zoning_path().parent.resolve():
        return f"{p.name}（ecozone 内置数据 bundled）"
    return path


@dataclass
class LayerSource:
    """Where a layer came from, for ``ecozone layers`` and report audits."""

    layer: str
    path: str
    source_layer: str | None
    sha256: str
    crs: str
    n_features: int
    fields: dict[str, str]
    encoding: str | None = None


@dataclass
class Zoning:
    """A loaded zoning package.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        Standard layer name -> normalised layer in ``crs``.
    crs : pyproj.CRS
        The metric working CRS.
    sources : list of LayerSource
        Provenance of each layer.
    path : Path or str
        The package (GeoPackage, manifest or folder) it was loaded from, or the
        database URL (password removed) of a package kept in PostGIS.
    coverage : dict of str to shapely.Geometry
        Layer -> the area its data is stated to cover (manifest ``coverage:``), in
        ``crs``; outside it the layer cannot support 不涉及.
    """

    layers: dict[str, gpd.GeoDataFrame]
    crs: CRS
    sources: list[LayerSource] = field(default_factory=list)
    path: Path | str | None = None
    coverage: dict[str, shapely.Geometry] = field(default_factory=dict)
    #: The bundled synthetic demo read from a store other than its file (a PostGIS copy): still stamped.
    demo: bool = False
    _wgs84: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    def __contains__(self, name: str) -> bool:
        """Return whether the package has a non-empty layer ``name``."""
        return name in self.layers and len(self.layers[name]) > 0

    def __getitem__(self, name: str) -> gpd.GeoDataFrame:
        """Return layer ``name`` in the working CRS."""
        return self.layers[name]

    @property
    def boundary(self) -> gpd.GeoDataFrame:
        """The planning boundary layer."""
        return self.layers["boundary"]

    def spec(self, name: str) -> LayerSpec:
        """Return the schema spec of layer ``name``.

        Parameters
        ----------
        name : str
            Layer name.

        Returns
        -------
        LayerSpec
            Standard spec, or a generic one for extra layers.
        """
        return REGISTRY.get(name) or generic_spec(name)

    def to_wgs84(self, name: str) -> gpd.GeoDataFrame:
        """Return layer ``name`` in WGS84 (for web maps), cached.

        Parameters
        ----------
        name : str
            Layer name.

        Returns
        -------
        GeoDataFrame
            The layer in EPSG:4326.
        """
        if name not in self._wgs84:
            self._wgs84[name] = self.layers[name].to_crs(WGS84)
        return self._wgs84[name]

    @property
    def content_hash(self) -> str:
        """A hash of every source file and mapping: the cache key for prepared indexes."""
        h = hashlib.sha256()
        for s in sorted(self.sources, key=lambda s: s.layer):
            h.update(json.dumps([s.layer, s.sha256, s.source_layer, s.fields, s.encoding], sort_keys=True).encode())
        h.update(self.crs.to_wkt().encode())
        return h.hexdigest()


def load_zoning(
    path: str | os.PathLike[str] | None = None, *, working_crs: str | CRS | None = None
) -> Zoning:
    """Load a zoning package (GeoPackage, YAML manifest or folder).

    Parameters
    ----------
    path : path-like, optional
        The package; the bundled 连州 demo when omitted.
    working_crs : str or CRS, optional
        Override the metric working CRS (must be projected).

    Returns
    -------
    Zoning
        Normalised layers in the working CRS.

    Raises
    ------
    InputError, SchemaError, CRSError, FileFormatError
        With the file, the problem and the fix.
    """
    if is_db_url(path):
        return _load_from_db(str(path), working_crs)
    path = Path(path) if path is not None else demo_zoning_path()
    if not path.exists():
        raise InputError(
            f"找不到分区数据：{path}。--zoning 接受 GeoPackage、zoning.yaml 清单、图层文件夹或 postgresql:// 数据库地址。",
            f"zoning not found: {path}; --zoning takes a GeoPackage, a zoning.yaml manifest, a folder or a postgresql:// URL",
        )
    entries = package_entries(path)
    if "boundary" not in entries:
        raise SchemaError(
            f"{path}：缺少必需的 boundary（行政区）图层。请在 GeoPackage 中加入名为 boundary/行政区 的图层，"
            "或在清单 layers 下写 boundary: {path: ...}。",
            f"{path}: the required boundary layer is missing; add a layer named boundary "
            "(or 行政区) or a `boundary:` entry in the manifest",
        )
    raw = {name: (read_entry(entry), entry) for name, entry in entries.items()}
    return _build(raw, path, working_crs)


def _load_from_db(url: str, working_crs: str | CRS | None) -> Zoning:
    """Read a package's tables from PostGIS, then normalise them exactly as files (see :mod:`spatial.pgzoning`)."""
    pkg = parse_db_url(url)
    engine = db_engine(pkg)
    try:
        entries: dict[str, dict[str, Any]] = {}
        for name, entry in db_entries(engine, pkg).items():
            std = _standard_name(name)
            if std in entries:
                raise SchemaError(
                    f"{pkg.display}：表 '{entries[std]['table']}' 和 '{entry['table']}' 都被识别为 {std}；请改名或写清单表。",
                    f"{pkg.display}: tables '{entries[std]['table']}' and '{entry['table']}' both map to {std}; rename one or add a manifest table",
                )
            entries[std] = entry
        if "boundary" not in entries:
            raise SchemaError(
                f"{pkg.display}：缺少必需的 boundary（行政区）表。",
                f"{pkg.display}: the required boundary table is missing",
            )
        raw: dict[str, tuple[gpd.GeoDataFrame, dict[str, Any]]] = {}
        for name, entry in entries.items():
            gdf = read_db_layer(engine, pkg, entry)
            raw[name] = (gdf, {**entry, "path": pkg.display, "layer": entry["table"], "sha256": frame_sha256(gdf),
                               "label": f"{pkg.schema}.{entry['table']}"})
        demo = db_is_demo(engine, pkg)
    finally:
        engine.dispose()
    zoning = _build(raw, pkg.display, working_crs)
    zoning.demo = demo
    return zoning


def _build(
    raw: dict[str, tuple[gpd.GeoDataFrame, dict[str, Any]]], path: Path | str, working_crs: str | CRS | None
) -> Zoning:
    """Normalise raw layers (from files or tables) into a :class:`Zoning`: one path for every store."""
    boundary = raw["boundary"][0]
    check_boundary_plausible(boundary, _label(raw["boundary"][1]))
    if working_crs is not None:
        wcrs = CRS.from_user_input(working_crs)
        if wcrs.is_geographic:
            raise InputError("工作坐标系必须是投影坐标系（米）。", "the working CRS must be projected (metres)")
    else:
        wcrs = working_crs_for(boundary.geometry.values, CRS.from_user_input(boundary.crs))
    layers: dict[str, gpd.GeoDataFrame] = {}
    sources: list[LayerSource] = []
    boundary_union = shapely.Polygon()
    for name in sorted(raw, key=lambda n: (LAYER_ORDER.index(n) if n in LAYER_ORDER else 99, n)):
        gdf, entry = raw[name]
        spec = REGISTRY.get(name) or generic_spec(name)
        label = _label(entry)
        norm, mapping = spec.normalise(
            gdf,
            field_map=entry.get("fields"),
            value_map=entry.get("values"),
            defaults=entry.get("defaults"),
            source=label,
        )
        if len(norm):
            check_declared_geographic(gdf, label, boundary_union if name != "boundary" else None, wcrs)
            src_invalid = ~shapely.is_valid(norm.geometry.values.to_numpy()) & ~shapely.is_empty(norm.geometry.values.to_numpy())
            norm = gpd.GeoDataFrame(
                norm.drop(columns=norm.geometry.name),
                geometry=to_crs_geoms(norm.geometry.values.to_numpy(), CRS.from_user_input(gdf.crs), wcrs),
                crs=wcrs,
            )
            norm = clean_geometries(norm, spec.geometry, label=f"{label}（{spec.label_zh}）", source_invalid=src_invalid)
            if name == "boundary":
                boundary_union = shapely.union_all(norm.geometry.values)
            else:
                check_layer_extent(gdf, norm.geometry.values.to_numpy(), boundary_union, wcrs, f"{label}（{spec.label_zh}）")
                check_stray_vertices(norm, boundary_union, f"{label}（{spec.label_zh}）")
        else:
            norm = norm.set_crs(wcrs, allow_override=True)
        layers[name] = norm
        sources.append(
            LayerSource(
                layer=name,
                path=str(entry["path"]),
                source_layer=None if entry.get("layer") is None else str(entry["layer"]),
                sha256=entry["sha256"] if "sha256" in entry else file_sha256(entry["path"]),
                crs=describe_crs(gdf.crs),
                n_features=len(norm),
                fields=mapping,
                encoding=entry.get("encoding"),
            )
        )
    coverage = {name: _coverage(entry, wcrs, name) for name, (_, entry) in raw.items() if entry.get("coverage") is not None}
    return Zoning(layers=layers, crs=wcrs, sources=sources, path=path, coverage=coverage)


def _coverage(entry: dict[str, Any], wcrs: CRS, name: str) -> shapely.Geometry:
    """Return a layer's stated coverage: ``[min_lon, min_lat, max_lon, max_lat]`` or a polygon file, in the working CRS."""
    cov = entry["coverage"]
    label = _label(entry)
    if isinstance(cov, (list, tuple)) and len(cov) == 4 and all(isinstance(v, (int, float)) for v in cov):
        x0, y0, x1, y1 = (float(v) for v in cov)
        if not (x0 < x1 and y0 < y1 and -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90):
            raise SchemaError(
                f"{label}：coverage 范围 {list(cov)} 无效，应为 [最小经度, 最小纬度, 最大经度, 最大纬度]（WGS84）。",
                f"{label}: coverage {list(cov)} is not a valid [min_lon, min_lat, max_lon, max_lat] extent (WGS84)",
            )
        geom = to_crs_geoms(np.array([shapely.box(x0, y0, x1, y1).segmentize(0.01)], dtype=object), WGS84, wcrs)[0]
    elif isinstance(cov, (str, Path)):
        gdf = read_vector(Path(cov))
        if gdf.crs is None or not len(gdf):
            raise SchemaError(
                f"{label}：coverage 文件 {cov} 没有坐标系或没有要素。", f"{label}: coverage file {cov} has no CRS or no features"
            )
        geoms = to_crs_geoms(gdf.geometry.values.to_numpy(), CRS.from_user_input(gdf.crs), wcrs)
        geom = shapely.union_all(shapely.make_valid(geoms))
    else:
        raise SchemaError(
            f"{label}：{name}.coverage 应为面文件路径或 [最小经度, 最小纬度, 最大经度, 最大纬度]。",
            f"{label}: {name}.coverage must be a polygon file or [min_lon, min_lat, max_lon, max_lat]",
        )
    shapely.prepare(geom)
    return geom


def _label(entry: dict[str, Any]) -> str:
    """File (and layer) name for messages."""
    if "label" in entry:
        return str(entry["label"])
    return f"{Path(entry['path']).name}{':' + str(entry['layer']) if entry.get('layer') is not None else ''}"


def package_entries(path: Path) -> dict[str, dict[str, Any]]:
    """Resolve a package path into per-layer read instructions (also what the zoning cache hashes).

    Parameters
    ----------
    path : Path
        GeoPackage (or other container), ``zoning.yaml`` manifest, or folder.

    Returns
    -------
    dict
        Standard layer name -> read instructions (``path``, ``layer``, manifest options).
    """
    if path.is_dir():
        return _entries_from_folder(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _entries_from_manifest(path)
    return _entries_from_container(path)


def read_entry(entry: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read one layer of a package as listed by :func:`package_entries` (layer, encoding, CRS, where).

    Parameters
    ----------
    entry : dict
        One value of :func:`package_entries`.

    Returns
    -------
    GeoDataFrame
        The layer as read, before normalisation.
    """
    return read_vector(
        entry["path"],
        entry.get("layer"),
        encoding=entry.get("encoding"),
        crs=entry.get("crs"),
        where=entry.get("where"),
        force_crs=bool(entry.get("force_crs", False)),
    )


def _standard_name(name: str) -> str:
    spec = spec_for_layer_name(name)
    return spec.name if spec else name


def _entries_from_container(path: Path) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for lyr in list_layers(path):
        std = _standard_name(lyr)
        if std in entries:
            raise SchemaError(
                f"{path}：图层 '{entries[std]['layer']}' 和 '{lyr}' 都被识别为 {std}；请改名或使用清单指定。",
                f"{path}: layers '{entries[std]['layer']}' and '{lyr}' both map to {std}; rename one or use a manifest",
            )
        entries[std] = {"path": path, "layer": lyr}
    return entries


def _entries_from_folder(path: Path) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for f in sorted(path.iterdir()):
        if f.suffix.lower() in VECTOR_SUFFIXES and not f.name.startswith("."):
            std = _standard_name(f.stem)
            if std in entries:
                raise SchemaError(
                    f"{path}：文件 {entries[std]['path'].name} 和 {f.name} 都被识别为 {std}；请改名或使用清单。",
                    f"{path}: {entries[std]['path'].name} and {f.name} both map to {std}; rename one or use a manifest",
                )
            entries[std] = {"path": f}
    if not entries:
        raise InputError(f"文件夹 {path} 中没有矢量文件。", f"no vector files in folder {path}")
    return entries


def _entries_from_manifest(path: Path) -> dict[str, dict[str, Any]]:
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(
            f"清单 {path} 不是有效的 UTF-8 YAML：{exc}", f"manifest {path} is not valid UTF-8 YAML: {exc}"
        ) from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("layers"), Mapping):
        raise SchemaError(
            f"清单 {path} 需要顶层键 layers:，其下每个标准图层一项（如 boundary: {{path: 边界.shp}}）。",
            f"manifest {path} needs a top-level `layers:` mapping (e.g. boundary: {{path: boundary.shp}})",
        )
    entries: dict[str, dict[str, Any]] = {}
    for name, spec in doc["layers"].items():
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, Mapping) or "path" not in spec:
            raise SchemaError(
                f"清单 {path}：图层 {name} 需要 path。", f"manifest {path}: layer {name} needs a `path`"
            )
        unknown = set(spec) - _MANIFEST_KEYS
        if unknown:
            raise SchemaError(
                f"清单 {path}：图层 {name} 有未知键 {sorted(unknown)}；可用：{sorted(_MANIFEST_KEYS)}",
                f"manifest {path}: layer {name} has unknown keys {sorted(unknown)}; valid: {sorted(_MANIFEST_KEYS)}",
            )
        std = _standard_name(str(name))
        entry = dict(spec)
        entry["path"] = path.parent / str(spec["path"])  # as the user's manifest names it (reports show it)
        if isinstance(entry.get("coverage"), str):
            entry["coverage"] = path.parent / entry["coverage"]
        for key in ("fields", "values", "defaults"):
            if key in entry and not isinstance(entry[key], Mapping):
                raise SchemaError(
                    f"清单 {path}：{name}.{key} 应为映射（键: 值）。", f"manifest {path}: {name}.{key} must be a mapping"
                )
        entries[std] = entry
    return entries
