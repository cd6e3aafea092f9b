"""Maps and reports: interactive zoning maps, screening reports, offline assets.

Names are imported lazily (PEP 562) so ``import maps.offline`` stays light and
does not pull in geopandas/folium until a map or report is actually built.

>>> from maps import build_map, save_map, write_report   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "OfflineAssetError",
    "make_offline",
    "offline_html",
    "save_offline",
    "build_map",
    "save_map",
    "basemap_spec",
    "read_sites_for_map",
    "BASEMAPS",
    "write_report",
    "make_figures",
    "build_model",
    "site_facts",
]

_WHERE = {
    "OfflineAssetError": "maps.offline",
    "make_offline": "maps.offline",
    "offline_html": "maps.offline",
    "save_offline": "maps.offline",
    "build_map": "maps.zoning_map",
    "save_map": "maps.zoning_map",
    "basemap_spec": "maps.zoning_map",
    "read_sites_for_map": "maps.zoning_map",
    "BASEMAPS": "maps.zoning_map",
    "write_report": "maps.report",
    "make_figures": "maps.report",
    "build_model": "maps.eia",
    "site_facts": "spatial.facts",
}


def __getattr__(name: str) -> Any:
    """Import an exported name on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'maps' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the exported names."""
    return sorted(set(globals()) | set(__all__))
