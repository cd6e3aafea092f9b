"""ecozone: ecological spatial-zoning checks for Chinese planning.

Public API::

    from spatial import load_zoning, screen
    result = screen("sites.gpkg", load_zoning("zoning.yaml"))
    result.sites[["site_id", "verdict", "summary_zh"]]
"""

from __future__ import annotations

from spatial._version import __version__
from spatial.errors import (
    CRSError,
    EcozoneError,
    FileFormatError,
    InputError,
    OutputExistsError,
    RuleError,
    SchemaError,
)
from spatial.rules import RuleSet, load_rules
from spatial.screen import ScreeningResult
from spatial.screen import screen as screen  # the function shadows the module name on purpose: spatial.screen(...)
from spatial.sites import read_sites
from spatial.zoning import Zoning, demo_sites_path, demo_zoning_path, load_zoning

__all__ = [
    "__version__",
    "screen",
    "ScreeningResult",
    "load_zoning",
    "Zoning",
    "load_rules",
    "RuleSet",
    "read_sites",
    "demo_zoning_path",
    "demo_sites_path",
    "EcozoneError",
    "InputError",
    "CRSError",
    "SchemaError",
    "RuleError",
    "OutputExistsError",
    "FileFormatError",
]
