"""Read a zoning package kept in PostGIS (``postgresql://user@host/db?schema=NAME``).

A package in a database schema is either

* one table per layer, named by a standard layer name or a synonym (as the
  layers of a GeoPackage are), each with one geometry column; or
* the same plus a manifest table ``ecozone_manifest`` (what ``ecozone zoning
  publish`` writes) naming, per standard layer, its table and, as a
  ``zoning.yaml`` does for files, its ``fields``/``values``/``defaults``
  mappings, a ``where`` filter, the source CRS and a ``coverage`` extent.

This module only reads tables into raw GeoDataFrames (attributes as stored,
geometry from WKB, CRS from the manifest or the column's SRID); the loader
(:func:`spatial.zoning.load_zoning`) normalises them exactly as it does
files, so a package gives the same zoning from either store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.errors import CRSError, InputError, SchemaError

__all__ = [
    "is_db_url",
    "DbPackage",
    "parse_db_url",
    "db_engine",
    "db_entries",
    "db_is_demo",
    "read_db_layer",
    "frame_sha256",
    "MANIFEST_TABLE",
    "META_TABLE",
    "ROW_COLUMN",
]

#: The manifest table of a published package (layer → table, mappings, CRS).
MANIFEST_TABLE = "ecozone_manifest"
#: The metadata table of a published version (issuer, label, date, hash, findings).
META_TABLE = "ecozone_meta"
#: Source row order, kept so feature ids derived from row positions stay the same.
ROW_COLUMN = "ecozone_row"
_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_db_url(value: object) -> bool:
    """Return whether ``value`` is a PostgreSQL URL (a zoning package in a database).

    Parameters
    ----------
    value : object
        A ``--zoning`` value (path, str or None).

    Returns
    -------
    bool
        True for ``postgresql://…`` (also ``postgres://``, ``postgresql+psycopg://``).
    """
    return isinstance(value, str) and value.strip().lower().startswith(_SCHEMES)


class DbPackage:
    """A parsed package URL: the database to connect to and the schema holding the package.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/db?schema=NAME`` (schema default ``public``).
    """

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        try:
            u = make_url(url.strip())
        except Exception as exc:  # noqa: BLE001 - any parse error is the user's URL
            raise InputError(f"数据库地址无法解析：{url}（{exc}）", f"cannot parse database URL {url}: {exc}") from exc
        query = dict(u.query)
        schema = query.pop("schema", "public")
        if isinstance(schema, tuple):
            schema = schema[-1]
        self.schema: str = str(schema)
        self.url = u.set(drivername="postgresql+psycopg", query=query)
        #: The URL as reports show it (no password).
        self.display: str = u.set(drivername="postgresql").render_as_string(hide_password=True)

    def __repr__(self) -> str:
        """Return the URL without its password."""
        return f"DbPackage({self.display!r})"


def parse_db_url(url: str) -> DbPackage:
    """Parse a package URL.

    Parameters
    ----------
    url : str
        ``postgresql://user@host/db?schema=NAME``.

    Returns
    -------
    DbPackage
        Connection URL (psycopg driver) and schema.
    """
    return DbPackage(url)


def db_engine(pkg: DbPackage) -> Any:
    """Create a SQLAlchemy engine for a package URL (raises a bilingual error if unreachable).

    Parameters
    ----------
    pkg : DbPackage
        The parsed URL.

    Returns
    -------
    sqlalchemy.engine.Engine
        The engine (connection checked).
    """
    import sqlalchemy as sa

    engine = sa.create_engine(pkg.url, pool_pre_ping=True)
    try:
        with engine.connect() as con:
            con.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - connection failures of any driver kind
        engine.dispose()
        raise InputError(
            f"无法连接数据库 {pkg.display}：{exc}。请检查主机、端口、用户和密码（可用 PGPASSWORD 或 ~/.pgpass）。",
            f"cannot connect to {pkg.display}: {exc}; check host, port, user and password (PGPASSWORD or ~/.pgpass)",
        ) from exc
    return engine


def _q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _geometry_columns(con: Any, schema: str) -> dict[str, tuple[str, int]]:
    import sqlalchemy as sa

    rows = con.execute(
        sa.text("select f_table_name, f_geometry_column, srid from geometry_columns where f_table_schema = :s"), {"s": schema}
    ).all()
    out: dict[str, tuple[str, int]] = {}
    for table, col, srid in rows:
        out.setdefault(str(table), (str(col), int(srid or 0)))
    return out


def db_entries(engine: Any, pkg: DbPackage) -> dict[str, dict[str, Any]]:
    """List the layers of a package schema: per layer name its table and manifest options.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        Connected engine.
    pkg : DbPackage
        The package URL.

    Returns
    -------
    dict
        Layer name (as the manifest or the table names it; the loader maps synonyms) →
        ``table``, ``geometry``, ``srid`` and any of ``fields``, ``values``, ``defaults``,
        ``where``, ``crs``.
    """
    import sqlalchemy as sa

    with engine.connect() as con:
        has_schema = con.execute(sa.text("select 1 from information_schema.schemata where schema_name = :s"), {"s": pkg.schema}).first()
        if has_schema is None:
            raise InputError(
                f"数据库 {pkg.display} 中没有模式（schema）{pkg.schema}。用 ecozone zoning list --db … 查看已发布版本。",
                f"database {pkg.display} has no schema {pkg.schema}; `ecozone zoning list --db …` lists the published versions",
            )
        geoms = _geometry_columns(con, pkg.schema)
        tables = {
            str(r[0])
            for r in con.execute(sa.text("select table_name from information_schema.tables where table_schema = :s"), {"s": pkg.schema})
        }
        entries: dict[str, dict[str, Any]] = {}
        if MANIFEST_TABLE in tables:
            rows = con.execute(sa.text(f"select * from {_q(pkg.schema)}.{_q(MANIFEST_TABLE)} order by layer")).mappings().all()
            for row in rows:
                table = str(row["table_name"])
                if table not in geoms:
                    raise SchemaError(
                        f"{pkg.display}：清单表 {MANIFEST_TABLE} 的图层 {row['layer']} 指向的表 {table} 不存在或没有几何列。",
                        f"{pkg.display}: {MANIFEST_TABLE} names table {table} for layer {row['layer']}, which is missing or has no geometry column",
                    )
                entry: dict[str, Any] = {"table": table, "geometry": geoms[table][0], "srid": geoms[table][1]}
                for key in ("fields", "values", "defaults"):
                    val = row.get(key)
                    if isinstance(val, str):
                        val = json.loads(val)
                    if val:
                        if not isinstance(val, Mapping):
                            raise SchemaError(
                                f"{pkg.display}：清单表 {row['layer']}.{key} 应为 JSON 对象。",
                                f"{pkg.display}: manifest {row['layer']}.{key} must be a JSON object",
                            )
                        entry[key] = dict(val)
                for key in ("where", "crs"):
                    if row.get(key):
                        entry[key] = str(row[key])
                cov = row.get("coverage")
                if cov is not None:  # the layer's stated coverage, [min_lon, min_lat, max_lon, max_lat]
                    entry["coverage"] = json.loads(cov) if isinstance(cov, str) else list(cov)
                entries[str(row["layer"])] = entry
        else:
            for table, (col, srid) in sorted(geoms.items()):
                entries[table] = {"table": table, "geometry": col, "srid": srid}
    if not entries:
        raise InputError(
            f"{pkg.display}：模式 {pkg.schema} 中没有带几何列的表（需要 PostGIS 表，每个标准图层一张）。",
            f"{pkg.display}: schema {pkg.schema} has no table with a geometry column (one PostGIS table per standard layer)",
        )
    return entries


def db_is_demo(engine: Any, pkg: DbPackage) -> bool:
    """Return whether the schema holds the bundled synthetic demo (``ecozone_meta.demo``): its outputs stay stamped.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        Connected engine.
    pkg : DbPackage
        The package URL.

    Returns
    -------
    bool
        True when ``ecozone zoning publish`` wrote the bundled demo into this schema.
    """
    import sqlalchemy as sa

    with engine.connect() as con:
        has = con.execute(
            sa.text("select 1 from information_schema.columns where table_schema = :s and table_name = :t and column_name = 'demo'"),
            {"s": pkg.schema, "t": META_TABLE},
        ).first()
        if has is None:
            return False
        return bool(con.execute(sa.text(f"select bool_or(demo) from {_q(pkg.schema)}.{_q(META_TABLE)}")).scalar())


def read_db_layer(engine: Any, pkg: DbPackage, entry: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """Read one table as stored: attribute columns in table order, geometry from WKB.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        Connected engine.
    pkg : DbPackage
        The package URL.
    entry : mapping
        One of :func:`db_entries`' values.

    Returns
    -------
    GeoDataFrame
        The raw layer in its source CRS (column ``geometry``), rows in source order.
    """
    import sqlalchemy as sa

    table, geom = str(entry["table"]), str(entry["geometry"])
    with engine.connect() as con:
        cols = [
            str(r[0])
            for r in con.execute(
                sa.text("select column_name from information_schema.columns where table_schema = :s and table_name = :t order by ordinal_position"),
                {"s": pkg.schema, "t": table},
            )
        ]
        attrs = [c for c in cols if c not in (geom, ROW_COLUMN)]
        select = ", ".join([*(_q(c) for c in attrs), f"ST_AsBinary({_q(geom)}) as {_q('__wkb__')}"])
        sql = f"select {select} from {_q(pkg.schema)}.{_q(table)}"
        if entry.get("where"):
            sql += f" where {entry['where']}"
        sql += f" order by {_q(ROW_COLUMN)}" if ROW_COLUMN in cols else ""
        # Binary transfer: WKB arrives as bytes, not as hex text to parse (a province's red lines are large).
        with con.connection.driver_connection.cursor(binary=True) as cur:
            cur.execute(sql)
            rows = cur.fetchall()
    data = {c: [r[i] for r in rows] for i, c in enumerate(attrs)}
    df = pd.DataFrame(data, columns=attrs)
    for c in attrs:  # the driver gives Python objects: let numbers and booleans become numeric columns again
        if len(df) and df[c].map(lambda v: v is None or isinstance(v, str)).all():
            continue
        df[c] = pd.Series(df[c].tolist(), index=df.index).infer_objects()
    wkb = np.array([None if r[-1] is None else bytes(r[-1]) for r in rows], dtype=object)
    geoms = shapely.from_wkb(wkb)
    if entry.get("crs"):
        crs = CRS.from_user_input(entry["crs"])
    elif int(entry.get("srid") or 0) > 0:
        crs = CRS.from_epsg(int(entry["srid"]))
    else:
        raise CRSError(
            f"{pkg.display}：表 {table} 的几何列没有 SRID，清单表也未给出 crs。请用 UpdateGeometrySRID 设置 SRID，或在 {MANIFEST_TABLE}.crs 中写明坐标系。",
            f"{pkg.display}: table {table} has no SRID and the manifest gives no crs; set one (UpdateGeometrySRID) or fill {MANIFEST_TABLE}.crs",
        )
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index, crs=crs), crs=crs)


def frame_sha256(gdf: gpd.GeoDataFrame) -> str:
    """Hash a layer's content (attributes and WKB geometry): the database side's file hash.

    Parameters
    ----------
    gdf : GeoDataFrame
        A raw layer.

    Returns
    -------
    str
        Hex SHA-256 over the column names, the attribute values (as text) and the geometries' WKB.
    """
    h = hashlib.sha256()
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    h.update(json.dumps(attrs, ensure_ascii=False).encode())
    for c in attrs:
        vals = gdf[c].to_numpy(dtype=object)
        h.update("\x1f".join("\x00" if v is None or (isinstance(v, float) and v != v) else str(v) for v in vals).encode())
    for w in shapely.to_wkb(gdf.geometry.values.to_numpy()):
        h.update(b"\x00" if w is None else w)
    return h.hexdigest()
