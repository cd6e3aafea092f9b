"""Shared helpers for the ``ecozone serve`` tests: apps on temp data dirs, inputs built in code."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from spatial.crs import WGS84, to_crs_geoms

#: The demo zoning's working CRS: CGCS2000 3-degree Gauss-Kruger, CM 111°E (带号 37).
DEMO_CRS = "EPSG:4546"


def make_app(tmp: Path, **kw: Any) -> Any:
    """Return a serve app on a fresh data dir (thread pool unless ``pool`` is given).

    TestClient sends ``Host: testserver``, which the host check only answers when allowed.
    """
    from spatial.serve import ServeSettings, create_app

    kw.setdefault("allowed_hosts", ("testserver",))
    kw.setdefault("pool", "thread")
    kw.setdefault("workers", 1)
    return create_app(ServeSettings(data_dir=tmp, **kw))


def wait_job(client: Any, job_id: str, timeout: float = 400.0, files: bool = True, **kw: Any) -> dict[str, Any]:
    """Poll ``GET /api/screenings/{id}`` until the job is done (and, with ``files``, its files written) or failed."""
    t0 = time.monotonic()
    while True:
        doc = client.get(f"/api/screenings/{job_id}", **kw).json()
        if doc.get("status") == "failed" or (doc.get("status") == "done" and not (files and doc.get("files_status") == "pending")):
            return doc
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"job {job_id} still {doc.get('status')} after {timeout} s")
        time.sleep(0.2)


def wait_zoning(client: Any, version_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``GET /api/zoning/{id}`` until the uploaded version is no longer ``validating``."""
    t0 = time.monotonic()
    while True:
        doc = client.get(f"/api/zoning/{version_id}").json()
        if doc.get("status") != "validating":
            return doc
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"zoning version {version_id} still validating after {timeout} s")
        time.sleep(0.1)


def coordfile_text(polygons: list[tuple[str, shapely.Polygon]]) -> str:
    """A 界址点坐标文件 (CGCS2000, 3-degree zone 37 = EPSG:4546) with one parcel per polygon.

    Coordinates are written as surveyors do: X = northing first, Y = easting.
    """
    lines = [
        "[属性描述]",
        "格式版本号=1.01版本",
        "数据产生单位=ecozone 测试（虚构数据）",
        "坐标系=2000国家大地坐标系",
        "几度分带=3",
        "投影类型=高斯克吕格",
        "计量单位=米",
        "带号=37",
        "精度=0.01",
        "[地块坐标]",
    ]
    for name, poly in polygons:
        ring = list(poly.exterior.coords)
        lines.append(f"{len(ring)},{poly.area / 10000:.4f},{name},{name}用地,面,,工业用地,0601,@")
        for i, (x, y) in enumerate(ring, start=1):
            j = 1 if i == len(ring) else i
            lines.append(f"J{j},1,{y:.3f},{x:.3f}")
    return "\n".join(lines) + "\n"


def redline_patch(size_m: float = 200.0) -> tuple[shapely.Polygon, str]:
    """A small square well inside the largest demo red-line patch (EPSG:4546) and its name."""
    from spatial import load_zoning

    z = load_zoning()
    red = z.layers["redline"]
    big = red.loc[red.geometry.area.idxmax()]
    core = big.geometry.buffer(-size_m * 3)
    p = shapely.point_on_surface(core if not core.is_empty else big.geometry)
    h = size_m / 2
    return shapely.box(p.x - h, p.y - h, p.x + h, p.y + h), str(big.get("name", ""))


def outside_patch(size_m: float = 100.0) -> shapely.Polygon:
    """A square in the demo town's development boundary, 300 m from every area a 工业 site must keep out of (EPSG:4546)."""
    from spatial import load_zoning

    z = load_zoning()
    town = shapely.union_all(z.layers["urban_boundary"].geometry.values)
    keep_out = ("redline", "protected_area", "water_source", "farmland", "corridor", "general_eco_space", "sensitive_receptor")
    avoid = shapely.union_all([shapely.union_all(z.layers[k].geometry.values) for k in keep_out if k in z.layers])
    free = town.difference(avoid.buffer(300))
    parts = sorted(getattr(free, "geoms", [free]), key=lambda g: -g.area)
    p = shapely.point_on_surface(parts[0])
    h = size_m / 2
    return shapely.box(p.x - h, p.y - h, p.x + h, p.y + h)


def to_lonlat(geom: shapely.Geometry, crs: str = DEMO_CRS) -> shapely.Geometry:
    """Reproject one geometry to WGS84 lon/lat."""
    return to_crs_geoms(np.asarray([geom], dtype=object), CRS.from_user_input(crs), WGS84)[0]


def zip_bytes(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    """Build a zip in memory; ``symlinks`` adds symbolic-link members (name -> target)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, target)
    return buf.getvalue()
