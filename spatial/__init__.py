"""ecozone: ecological spatial-zoning checks for Chinese planning.

Public API::

    from spatial import load_zoning, screen
    result = screen("sites.gpkg", load_zoning("zoning.yaml"))
    result.sites[["site_id", "verdict", "summary_zh"]]
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from spatial._version import __version__

# Lazy re-exports (PEP 562): `import spatial.errors` (done by layers/) must not pull in the
# whole engine, which itself imports layers/ - eager imports here would be circular.
_EXPORTS = {
    "screen": "spatial.screening",
    "ScreeningResult": "spatial.screening",
    "load_zoning": "spatial.zoning",
    "Zoning": "spatial.zoning",
    "demo_zoning_path": "spatial.zoning",
    "demo_sites_path": "spatial.zoning",
    "load_rules": "spatial.rules",
    "RuleSet": "spatial.rules",
    "read_sites": "spatial.sites",
    "compute_indicators": "spatial.indicators",
    "diff_layers": "spatial.diff",
    "validate_zoning": "spatial.validate",
    "EcozoneError": "spatial.errors",
    "InputError": "spatial.errors",
    "CRSError": "spatial.errors",
    "SchemaError": "spatial.errors",
    "RuleError": "spatial.errors",
    "OutputExistsError": "spatial.errors",
    "FileFormatError": "spatial.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import public names on first use (``spatial.screen`` is the function; its module is ``spatial.screening``)."""
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spatial' has no attribute {name!r}")


def __dir__() -> list[str]:
    """List the public API."""
    return sorted(__all__)
