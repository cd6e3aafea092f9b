"""How sites are read: one frozen value built once by every caller.

The CLI builds it from the ``site_options`` click decorator
(:mod:`spatial.cli.options`), the web worker from the job's form fields
(:meth:`SiteOptions.from_form`), Python from keywords
(``SiteOptions(project_type="化工")``).  Every function that reads sites
takes it, so a new reading option is one field here and one click option.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from spatial.errors import InputError

__all__ = ["SiteOptions", "XY_ORDERS", "COORDS"]

#: ``--xy-order`` values: survey (X = northing, 坐标成果表) or GIS order.
XY_ORDERS = ("survey", "gis")
#: ``--coords`` values: which pair of a table with both.
COORDS = ("lonlat", "xy")


@dataclass(frozen=True)
class SiteOptions:
    """How to read project sites.

    Attributes
    ----------
    project_type : str, optional
        One project type for every site (``--project-type``).
    id_field, type_field : str, optional
        Columns holding site ids / project types.
    sites_crs : str, optional
        CRS of the coordinates (EPSG, cgcs2000, wgs84, gcj02, bd09).
    xy_order : {'survey', 'gis'}, optional
        Which X/Y column is the northing (default: from the numbers).
    layer : str, optional
        Layer of a multi-layer file; CAD layer of a DXF; folder of a KML.
    sheet : str, optional
        One sheet of a workbook.
    coords : {'lonlat', 'xy'}, optional
        Which pair to use when a table has both and they disagree.
    type_map : mapping or path-like, optional
        The bureau's own type names -> ecozone types.
    strict_types : bool
        Unknown project types are an error instead of ``other``.
    """

    project_type: str | None = None
    id_field: str | None = None
    type_field: str | None = None
    sites_crs: str | None = None
    xy_order: str | None = None
    layer: str | None = None
    sheet: str | None = None
    coords: str | None = None
    type_map: Mapping[str, str] | str | os.PathLike[str] | None = None
    strict_types: bool = False

    def __post_init__(self) -> None:
        """Check the choices once, whoever built the options."""
        if self.project_type and self.type_field:
            raise InputError("--project-type 与 --type-field 只能选一个。", "use either --project-type or --type-field")
        if self.xy_order is not None and self.xy_order not in XY_ORDERS:
            raise InputError(f"--xy-order 只能是 survey 或 gis，而不是 {self.xy_order}。", f"--xy-order must be survey or gis, not {self.xy_order}")
        if self.coords is not None and self.coords not in COORDS:
            raise InputError(f"--coords 只能是 lonlat 或 xy，而不是 {self.coords}。", f"--coords must be lonlat or xy, not {self.coords}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the field names (the keywords :func:`spatial.screen` accepts for them)."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of(cls, options: SiteOptions | None = None, **changes: Any) -> SiteOptions:
        """Return ``options`` (default: all defaults) with ``changes`` applied (``None`` values ignored).

        Parameters
        ----------
        options : SiteOptions, optional
            Starting point.
        **changes
            Field values.

        Returns
        -------
        SiteOptions
            The combined options.

        Raises
        ------
        TypeError
            A keyword that is not a field.
        """
        unknown = set(changes) - set(cls.names())
        if unknown:
            raise TypeError(f"unknown site options: {', '.join(sorted(unknown))}")
        given = {k: v for k, v in changes.items() if v is not None}
        return replace(options or cls(), **given)

    @classmethod
    def from_form(cls, params: Mapping[str, Any]) -> SiteOptions:
        """Build from a web form's fields (blank strings mean "not given").

        Parameters
        ----------
        params : mapping
            Form fields, named like the attributes.

        Returns
        -------
        SiteOptions
            The options.
        """
        given = {k: (v.strip() if isinstance(v, str) else v) for k, v in params.items() if k in cls.names()}
        given = {k: v for k, v in given.items() if v not in ("", None)}
        if "strict_types" in given:
            given["strict_types"] = str(given["strict_types"]).lower() in ("1", "true", "on", "yes")
        return cls(**given)

    def for_file(self, sites_crs: str | None) -> SiteOptions:
        """Return these options with a file's own CRS (a web input may declare one), if given."""
        return self if sites_crs is None else replace(self, sites_crs=sites_crs)

    def to_dict(self) -> dict[str, Any]:
        """Return the options as plain values (for audit records)."""
        out = asdict(self)
        if out["type_map"] is not None and not isinstance(out["type_map"], Mapping):
            out["type_map"] = str(out["type_map"])
        return out
