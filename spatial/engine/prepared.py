"""Zoning arrays built once per screening: prepared geometries, labels, reach, ban lists."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.errors import DataWarning
from spatial.project_types import ProjectTypes
from spatial.zoning import Zoning

__all__ = ["PreparedZoning", "prepare_zoning", "release_prepared", "split_lines", "warn_unknown_bans", "PIECE_VERTICES"]

#: Vertices per piece when long zoning lines are split for querying.
PIECE_VERTICES = 16
#: Separators of project-type list fields (a unit's 禁止类, a park's lists).
_SPLIT = r"[;；,，、/\s]+"


@dataclass
class PreparedZoning:
    """Zoning arrays ready for bulk queries; build once, screen many times.

    Attributes
    ----------
    zoning : Zoning
        The source package.
    geoms : dict
        Layer -> ndarray of prepared geometries (working CRS).
    attrs : dict
        Layer -> attribute DataFrame aligned with ``geoms``.
    labels : dict
        Layer -> feature display names.
    reach : dict
        Layer -> metres each feature reaches beyond its geometry (corridor
        widths), for the layers whose :class:`~layers.base.LayerSpec` has a ``reach``.
    boundary : shapely.Geometry
        Prepared union of the boundary.
    types : ProjectTypes
        Vocabulary the bans were parsed with.
    unknown_bans : list of str
        Terms of project-type list fields (a unit's 禁止类, a park's lists)
        that the vocabulary does not know, each prefixed with where it was found.
    pieces : dict
        Layer -> (line pieces, owner feature) for layers with lines.
    """

    zoning: Zoning
    geoms: dict[str, np.ndarray]
    attrs: dict[str, pd.DataFrame]
    labels: dict[str, np.ndarray]
    reach: dict[str, np.ndarray]
    boundary: shapely.Geometry
    types: ProjectTypes
    unknown_bans: list[str] = field(default_factory=list)
    pieces: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _where: dict[tuple[Any, ...], np.ndarray] = field(default_factory=dict, repr=False)
    _unions: dict[tuple[Any, ...], shapely.Geometry] = field(default_factory=dict, repr=False)
    _lists: dict[tuple[str, str], tuple[list[set[str]], list[str]]] = field(default_factory=dict, repr=False)
    _trees: dict[str, shapely.STRtree] = field(default_factory=dict, repr=False)

    @property
    def crs(self) -> CRS:
        """Working CRS."""
        return self.zoning.crs

    def where_mask(self, rule_id: str, layer: str, where: Mapping[str, tuple[str, ...]]) -> np.ndarray | None:
        """Per-feature mask of a rule's attribute condition (cached: every chunk reuses it).

        Parameters
        ----------
        rule_id : str
            The rule's id (cache key).
        layer : str
            One of its layers.
        where : mapping
            Standard field -> allowed values (empty: no condition).

        Returns
        -------
        ndarray of bool or None
            Features meeting ``where`` (None: no condition).
        """
        if not where:
            return None
        key = (rule_id, layer, tuple(sorted(where.items())))
        if key not in self._where:
            attrs = self.attrs[layer]
            keep = np.ones(len(attrs), dtype=bool)
            for fname, allowed in where.items():
                col = attrs[fname] if fname in attrs else pd.Series([None] * len(attrs))
                keep &= col.astype("string").isin(allowed).fillna(False).to_numpy()
            self._where[key] = keep
        return self._where[key]

    def union_of(self, layer: str, idx: np.ndarray) -> shapely.Geometry:
        """Return the prepared union of features ``idx`` of ``layer`` (cached: every chunk reuses it).

        Parameters
        ----------
        layer : str
            Layer name.
        idx : ndarray of int
            Feature indexes.

        Returns
        -------
        shapely.Geometry
            The dissolved, prepared features (empty when ``idx`` is).
        """
        key = (layer, idx.tobytes())
        if key not in self._unions:
            union = shapely.union_all(self.geoms[layer][idx])
            shapely.prepare(union)
            self._unions[key] = union
        return self._unions[key]

    def layer_tree(self, layer: str) -> shapely.STRtree:
        """Return a tree over a layer's geometries (its line pieces where it has them), made on first use.

        Parameters
        ----------
        layer : str
            Layer name.

        Returns
        -------
        shapely.STRtree
            Tree whose indexes are those of ``geoms[layer]`` (or of ``pieces[layer][0]``).
        """
        if layer not in self._trees:
            geoms = self.pieces[layer][0] if layer in self.pieces else self.geoms[layer]
            tree = shapely.STRtree(geoms)
            tree.query(geoms[:1])  # built here (shapely builds on first query), before threads share it
            self._trees[layer] = tree
        return self._trees[layer]

    def type_lists(self, layer: str, column: str) -> list[set[str]]:
        """Per feature, the project types a list field names (a unit's 禁止类, a park's banned list).

        Terms are split on ``;；,，、/`` and spaces and read with :attr:`types`
        (groups expand to their members); unknown terms are collected for
        :func:`warn_unknown_types`.

        Parameters
        ----------
        layer : str
            Layer name.
        column : str
            Standard list field.

        Returns
        -------
        list of set of str
            Canonical types per feature (empty sets where the field is empty or absent).
        """
        key = (layer, column)
        if key not in self._lists:
            attrs = self.attrs.get(layer)
            values = attrs[column] if attrs is not None and column in attrs else pd.Series([None] * (0 if attrs is None else len(attrs)))
            found: list[set[str]] = []
            unknown: list[str] = []
            for terms in values.fillna("").astype(str).str.split(_SPLIT, regex=True):
                known, bad = self.types.parse(t for t in terms if t)
                found.append(known - {"all"})
                unknown.extend(bad)
            self._lists[key] = (found, sorted(set(unknown)))
        return self._lists[key][0]


def prepare_zoning(zoning: Zoning, types: ProjectTypes) -> PreparedZoning:
    """Build the arrays the engine queries (prepared geometries, ban lists).

    Parameters
    ----------
    zoning : Zoning
        Loaded package.
    types : ProjectTypes
        Vocabulary for parsing units' ``prohibited`` lists.

    Returns
    -------
    PreparedZoning
        Ready for :func:`spatial.engine.evaluate.screen_core`.
    """
    geoms: dict[str, np.ndarray] = {}
    attrs: dict[str, pd.DataFrame] = {}
    labels: dict[str, np.ndarray] = {}
    reach: dict[str, np.ndarray] = {}
    for name, layer in zoning.layers.items():
        g = np.asarray(layer.geometry.values, dtype=object)
        shapely.prepare(g)
        geoms[name] = g
        attrs[name] = pd.DataFrame(layer.drop(columns=layer.geometry.name)).reset_index(drop=True)
        spec = zoning.spec(name)
        nm = attrs[name][spec.name_field] if spec.name_field and spec.name_field in attrs[name] else None
        fid = attrs[name]["feature_id"].astype(str)
        labels[name] = (nm.astype("string").fillna(fid).astype(str) if nm is not None else fid).to_numpy()
        if spec.reach is not None:
            reach[name] = spec.reach(attrs[name]) if len(attrs[name]) else np.zeros(0)
    boundary = shapely.union_all(geoms["boundary"])
    shapely.prepare(boundary)
    pieces = {name: split_lines(g) for name, g in geoms.items() if name != "boundary" and _has_lines(g)}
    prepared = PreparedZoning(zoning, geoms, attrs, labels, reach, boundary, types, pieces=pieces)
    # Read every project-type list once, so unknown terms are reported before screening.
    for name in attrs:
        spec = zoning.spec(name)
        for f in spec.fields:
            if f.kind == "types" and f.name in attrs[name]:
                prepared.type_lists(name, f.name)
                bad = prepared._lists[(name, f.name)][1]
                prepared.unknown_bans.extend(f"{spec.label_zh}{f.label_zh}：{t}" for t in bad)
    return prepared


def release_prepared(prepared: PreparedZoning) -> None:
    """Free the GEOS indexes built on the zoning's geometries (the next screening re-prepares them).

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning no longer needed for queries.
    """
    for g in prepared.geoms.values():
        shapely.destroy_prepared(g)
    for g, _ in prepared.pieces.values():
        shapely.destroy_prepared(g)
    shapely.destroy_prepared(prepared.boundary)
    _trim_heap()


def ensure_prepared(prepared: PreparedZoning, layer: str, lo: int, hi: int) -> None:
    """Prepare features ``lo:hi`` again if :func:`release_prepared` dropped them (a no-op otherwise).

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning.
    layer : str
        Layer name.
    lo, hi : int
        Feature range.
    """
    shapely.prepare(prepared.geoms[layer][lo:hi])
    if layer in prepared.pieces and (lo, hi) == (0, len(prepared.geoms[layer])):
        shapely.prepare(prepared.pieces[layer][0])


def warn_unknown_bans(prepared: PreparedZoning) -> None:
    """Warn about project types in list fields (禁止类, a park's lists) that the vocabulary does not know.

    Parameters
    ----------
    prepared : PreparedZoning
        Prepared zoning (its ``unknown_bans``).
    """
    if prepared.unknown_bans:
        warnings.warn(
            f"项目类型清单中有无法识别的项目类型，未用于判定：{'、'.join(prepared.unknown_bans[:20])}；"
            "可在规则文件 project_types 中补充同义词。 / unrecognised project types in 禁止类/park lists were ignored",
            DataWarning,
            stacklevel=3,
        )


def _trim_heap() -> None:
    """Give freed C heap memory back to the OS (glibc only; a no-op elsewhere).

    GEOS frees its indexes into the C heap, but Python's own small-object
    allocator takes fresh memory from the OS instead of reusing it, so without
    a trim the freed gigabyte still counts towards the peak.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _has_lines(geoms: np.ndarray) -> bool:
    """Whether any geometry is (multi)linear."""
    return bool(len(geoms)) and bool(np.isin(shapely.get_type_id(geoms), [1, 2, 5]).any())


def split_lines(geoms: np.ndarray, size: int = PIECE_VERTICES) -> tuple[np.ndarray, np.ndarray]:
    """Cut lines into pieces of at most ``size`` vertices (sharing end vertices), for querying.

    A river 200 km long has a bounding box that catches every site in a
    county; its 16-vertex pieces have tight boxes.  The distance to a line is
    the minimum over its segments, so "within d of some piece" is exactly
    "within d of the line".  Polygons are kept whole.

    Parameters
    ----------
    geoms : ndarray
        Layer geometries.
    size : int
        Maximum vertices per piece.

    Returns
    -------
    (ndarray, ndarray)
        Prepared piece geometries and the index of the feature each came from.
    """
    parts, owner = shapely.get_parts(geoms, return_index=True)
    tid = shapely.get_type_id(parts)
    line = np.isin(tid, [1, 2])
    coords, pidx = shapely.get_coordinates(parts[line], return_index=True)
    nv = np.bincount(pidx, minlength=int(line.sum()))
    nseg = np.maximum(nv - 1, 1)
    npieces = -(-nseg // (size - 1))
    part_of_piece = np.repeat(np.arange(len(nv)), npieces)
    k = np.arange(len(part_of_piece)) - np.repeat(np.cumsum(npieces) - npieces, npieces)
    first = np.repeat(np.cumsum(nv) - nv, npieces) + k * (size - 1)
    length = np.minimum(size - 1, nseg[part_of_piece] - k * (size - 1)) + 1
    vidx = np.repeat(first, length) + (np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length))
    piece_geoms = shapely.linestrings(coords[vidx], indices=np.repeat(np.arange(len(first)), length))
    geoms_out = np.concatenate([piece_geoms, parts[~line]])
    owner_out = np.concatenate([owner[line][part_of_piece], owner[~line]])
    shapely.prepare(geoms_out)
    return geoms_out, owner_out
