"""Publish a zoning package into PostGIS, one schema per version, and list the versions.

``publish_package`` reads every layer of a package as the loader does (the
same entries, ``where``, encoding and CRS), writes each as it is stored (raw
attributes, geometry in its source CRS, source row order) into a new schema
together with the manifest table (layer → table, the manifest's field and
value mappings and defaults, the CRS) and a metadata table (issuer, version
label, date, content hash, validate findings), and creates a GiST index per
table.  It all happens in one transaction: a failed publish leaves nothing.
Reading it back (:func:`spatial.zoning.load_zoning` on the schema's URL) goes
through the very normalisation a file does, hence the same zoning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import spec_for_layer_name
from spatial._version import __version__
from spatial.errors import InputError, OutputExistsError, SchemaError
from spatial.pgzoning import MANIFEST_TABLE, META_TABLE, ROW_COLUMN, db_engine, frame_sha256, parse_db_url
from spatial.validate import validate_zoning
from spatial.zoning import is_demo_zoning, package_entries, read_entry

__all__ = ["PublishedVersion", "publish_package", "list_versions", "version_of"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PublishedVersion:
    """One published zoning version (a row of ``ecozone zoning list``)."""

    schema: str
    label: str
    issuer: str
    published: str
    content_hash: str
    source: str
    layers: list[str]
    findings: dict[str, int] | None
    url: str

    def as_dict(self) -> dict[str, Any]:
        """Return the version as a JSON-able mapping."""
        return dict(self.__dict__)


def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _pg_type(s: pd.Series) -> str:
    kind = s.dtype.kind
    if kind in "iu":
        return "bigint"
    if kind == "f":
        return "double precision"
    if kind == "b":
        return "boolean"
    if kind == "M":
        return "timestamp"
    return "text"


def _column_values(s: pd.Series) -> list[Any]:
    """Python values for COPY: NULL for None/NaN/NaT, text for anything that is not a number or a date."""
    kind = s.dtype.kind
    if kind in "iub":
        return s.tolist()
    if kind == "f":
        return [None if v != v else v for v in s.tolist()]
    if kind == "M":
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in s.tolist()]


def _check_identifier(name: str, where: str) -> None:
    if len(name.encode("utf-8")) > 63:
        raise SchemaError(
            f"{where}：列名或表名 '{name}' 超过 PostgreSQL 的 63 字节上限，会被截断；请在清单中改名后再发布。",
            f"{where}: name '{name}' exceeds PostgreSQL's 63-byte identifier limit and would be cut; rename it before publishing",
        )


def _read_raw(package: Path) -> dict[str, tuple[gpd.GeoDataFrame, dict[str, Any]]]:
    """Read every layer as the loader does (entries, where, encoding, CRS), before normalisation."""
    raw: dict[str, tuple[gpd.GeoDataFrame, dict[str, Any]]] = {}
    for name, entry in package_entries(package).items():
        spec = spec_for_layer_name(name)
        raw[spec.name if spec else name] = (read_entry(entry), entry)
    return raw


def _next_schema(con: Any) -> str:
    import sqlalchemy as sa

    names = {str(r[0]) for r in con.execute(sa.text("select schema_name from information_schema.schemata"))}
    n = 1
    while f"zoning_v{n}" in names:
        n += 1
    return f"zoning_v{n}"


def publish_package(
    package: str | os.PathLike[str],
    db: str,
    *,
    label: str,
    issuer: str = "",
    schema: str | None = None,
    validate: bool = True,
) -> PublishedVersion:
    """Write a zoning package into a new schema of a PostGIS database.

    Parameters
    ----------
    package : path-like
        GeoPackage, ``zoning.yaml`` manifest or folder.
    db : str
        ``postgresql://user@host/db`` (a ``?schema=`` in it is ignored: see ``schema``).
    label : str
        Version label, e.g. ``2026年动态更新``.
    issuer : str, optional
        Issuing body (e.g. ``连州市生态环境局``).
    schema : str, optional
        The new schema's name (lower-case ASCII); default the next free ``zoning_vN``.
    validate : bool, default True
        Run ``ecozone validate`` and store its findings (False: stored as not checked, ``null``;
        a province takes minutes to validate).

    Returns
    -------
    PublishedVersion
        The version written, with its URL for ``--zoning``.

    Raises
    ------
    OutputExistsError
        If the schema exists (a version is never overwritten).
    """
    import sqlalchemy as sa

    package = Path(package)
    if not package.exists():
        raise InputError(f"找不到分区数据：{package}", f"zoning not found: {package}")
    if schema is not None and not _SCHEMA_RE.match(schema):
        raise InputError(
            f"模式名 {schema} 无效：只用小写字母、数字和下划线，以字母开头。", f"invalid schema name {schema}: use a-z, 0-9 and _, starting with a letter"
        )
    findings: dict[str, int] | None = None
    if validate:
        report = validate_zoning(package)  # also proves the package loads
        findings = {str(k): int(v) for k, v in sorted(report.codes().items())}
    raw = _read_raw(package)
    pkg = parse_db_url(db)
    engine = db_engine(pkg)
    try:
        with engine.begin() as con:
            if con.execute(sa.text("select 1 from pg_extension where extname = 'postgis'")).first() is None:
                con.execute(sa.text("create extension postgis"))
            schema = schema or _next_schema(con)
            if con.execute(sa.text("select 1 from information_schema.schemata where schema_name = :s"), {"s": schema}).first():
                raise OutputExistsError(
                    f"模式 {schema} 已存在：已发布的版本不会被覆盖；请换一个 --schema。",
                    f"schema {schema} exists: a published version is never overwritten; choose another --schema",
                )
            con.execute(sa.text(f"create schema {_q(schema)}"))
            hashes = []
            manifest = []
            for name, (gdf, entry) in raw.items():
                hashes.append([name, frame_sha256(gdf)])
                manifest.append(_write_layer(con, schema, name, gdf, entry, package))
            content_hash = hashlib.sha256(json.dumps(sorted(hashes)).encode()).hexdigest()
            con.execute(
                sa.text(
                    f"create table {_q(schema)}.{_q(MANIFEST_TABLE)} (layer text primary key, table_name text not null, "
                    "fields jsonb, \"values\" jsonb, defaults jsonb, \"where\" text, crs text, coverage jsonb)"
                )
            )
            con.execute(
                sa.text(
                    f"insert into {_q(schema)}.{_q(MANIFEST_TABLE)} (layer, table_name, fields, \"values\", defaults, crs, coverage) "
                    "values (:layer, :table_name, cast(:fields as jsonb), cast(:values as jsonb), cast(:defaults as jsonb), :crs, "
                    "cast(:coverage as jsonb))"
                ),
                manifest,
            )
            published = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
            con.execute(
                sa.text(
                    f"create table {_q(schema)}.{_q(META_TABLE)} (label text not null, issuer text, published timestamptz not null, "
                    "content_hash text not null, source text, ecozone_version text, layers jsonb, findings jsonb, demo boolean not null)"
                )
            )
            con.execute(
                sa.text(
                    f"insert into {_q(schema)}.{_q(META_TABLE)} values (:label, :issuer, :published, :hash, :source, :ver, "
                    "cast(:layers as jsonb), cast(:findings as jsonb), :demo)"
                ),
                {
                    "label": label,
                    "issuer": issuer,
                    "published": published,
                    "hash": content_hash,
                    "source": package.name,
                    "ver": __version__,
                    "layers": json.dumps(list(raw), ensure_ascii=False),
                    "findings": None if findings is None else json.dumps(findings),
                    "demo": is_demo_zoning(package),  # the synthetic demo stays stamped 示范数据 when read back
                },
            )
    finally:
        engine.dispose()
    url = pkg.url.set(drivername="postgresql", query={"schema": schema}).render_as_string(hide_password=True)
    return PublishedVersion(schema, label, issuer, published, content_hash, package.name, list(raw), findings, url)


def _write_layer(con: Any, schema: str, name: str, gdf: gpd.GeoDataFrame, entry: dict[str, Any], package: Path) -> dict[str, Any]:
    """Create one table (raw columns, row order, geometry in its SRID), COPY the rows in, index it."""
    import sqlalchemy as sa
    from pyproj import CRS

    where = f"{package.name}:{name}"
    _check_identifier(name, where)
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    for c in attrs:
        _check_identifier(str(c), where)
        if str(c) in ("geom", ROW_COLUMN):
            raise SchemaError(f"{where}：列名 {c} 为 ecozone 保留，请改名。", f"{where}: column name {c} is reserved by ecozone; rename it")
    coverage = entry.get("coverage")
    if coverage is not None and not (isinstance(coverage, (list, tuple)) and len(coverage) == 4):
        raise SchemaError(
            f"{where}：清单 coverage 为面文件，尚不能发布到数据库；请改为 [最小经度, 最小纬度, 最大经度, 最大纬度]。",
            f"{where}: a coverage polygon file cannot be published yet; give coverage as [min_lon, min_lat, max_lon, max_lat]",
        )
    crs = CRS.from_user_input(gdf.crs)
    epsg = crs.to_epsg() or 0
    cols = ", ".join([f"{_q(ROW_COLUMN)} bigint primary key", *(f"{_q(str(c))} {_pg_type(gdf[c])}" for c in attrs), f"geom geometry(Geometry, {epsg})"])
    table = f"{_q(schema)}.{_q(name)}"
    con.execute(sa.text(f"create table {table} ({cols})"))
    geoms = gdf.geometry.values.to_numpy()
    wkb = shapely.to_wkb(shapely.set_srid(geoms, epsg), hex=True, include_srid=True)
    columns = [list(range(len(gdf))), *(_column_values(gdf[c]) for c in attrs), [None if w is None else w for w in np.asarray(wkb, dtype=object)]]
    raw_con = con.connection.driver_connection
    names = ", ".join([_q(ROW_COLUMN), *(_q(str(c)) for c in attrs), "geom"])
    with raw_con.cursor() as cur, cur.copy(f"copy {table} ({names}) from stdin") as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
    con.execute(sa.text(f"create index on {table} using gist (geom)"))
    con.execute(sa.text(f"analyze {table}"))
    return {
        "layer": name,
        "table_name": name,
        "fields": json.dumps(entry.get("fields") or {}, ensure_ascii=False),
        "values": json.dumps(entry.get("values") or {}, ensure_ascii=False),
        "defaults": json.dumps(entry.get("defaults") or {}, ensure_ascii=False, default=str),
        "crs": crs.to_wkt(),
        "coverage": None if coverage is None else json.dumps([float(v) for v in coverage]),
    }


def list_versions(db: str) -> list[PublishedVersion]:
    """List the versions published in a database (every schema holding an ``ecozone_meta`` table).

    Parameters
    ----------
    db : str
        ``postgresql://user@host/db``.

    Returns
    -------
    list of PublishedVersion
        Oldest first.
    """
    import sqlalchemy as sa

    pkg = parse_db_url(db)
    engine = db_engine(pkg)
    out = []
    try:
        with engine.connect() as con:
            schemas = [
                str(r[0])
                for r in con.execute(
                    sa.text("select table_schema from information_schema.tables where table_name = :t"), {"t": META_TABLE}
                )
            ]
            for schema in schemas:
                row = con.execute(sa.text(f"select * from {_q(schema)}.{_q(META_TABLE)}")).mappings().first()
                if row is None:
                    continue
                layers = row["layers"] if not isinstance(row["layers"], str) else json.loads(row["layers"])
                findings = row["findings"] if not isinstance(row["findings"], str) else json.loads(row["findings"])
                url = pkg.url.set(drivername="postgresql", query={"schema": schema}).render_as_string(hide_password=True)
                out.append(
                    PublishedVersion(
                        schema, str(row["label"]), str(row["issuer"] or ""), row["published"].isoformat(), str(row["content_hash"]),
                        str(row["source"] or ""), list(layers or []), None if findings is None else dict(findings), url,
                    )
                )
    finally:
        engine.dispose()
    return sorted(out, key=lambda v: (v.published, v.schema))


def version_of(url: str) -> PublishedVersion | None:
    """Return the published version a package URL names (None: a schema without ``ecozone_meta``).

    Parameters
    ----------
    url : str
        ``postgresql://user@host/db?schema=NAME``.

    Returns
    -------
    PublishedVersion or None
        Its label, issuer, date, hash and findings.
    """
    schema = parse_db_url(url).schema
    return next((v for v in list_versions(url) if v.schema == schema), None)
