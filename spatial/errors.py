"""Error hierarchy: every user-facing error is an :class:`EcozoneError`.

Each class also subclasses the builtin a Python caller would expect, so
``except ValueError`` keeps working.  Messages are bilingual, Chinese first,
and always say how to fix the problem.  The CLI turns any ``EcozoneError``
into one message and exit status 2 (no traceback unless ``--debug``).
"""

from __future__ import annotations

__all__ = [
    "EcozoneError",
    "InputError",
    "CRSError",
    "SitesCRSMissing",
    "SchemaError",
    "RuleError",
    "OutputExistsError",
    "FileFormatError",
    "EcozoneWarning",
    "DataWarning",
    "GeometryRepairWarning",
    "CRSWarning",
]


class EcozoneError(Exception):
    """Root of all ecozone errors.

    Parameters
    ----------
    zh : str
        The message in Chinese (shown first).
    en : str, optional
        The same message in English.
    """

    exit_code = 2

    def __init__(self, zh: str, en: str | None = None) -> None:
        self.zh = zh
        self.en = en
        super().__init__(zh if not en else f"{zh}\n{en}")


class InputError(EcozoneError, ValueError):
    """An input file or argument is unusable as given."""


class CRSError(EcozoneError, ValueError):
    """A coordinate reference system is missing, unknown or implausible."""


class SitesCRSMissing(CRSError):
    """Sites given as projected X/Y numbers without a CRS.

    Carries the numbers, so a caller that knows the zoning can name the
    Gauss-Kruger zone that puts them inside the boundary.

    Parameters
    ----------
    zh, en : str
        The message.
    easting, northing : ndarray, optional
        The coordinates as read (GIS order).
    """

    def __init__(self, zh: str, en: str | None = None, *, easting: object = None, northing: object = None) -> None:
        super().__init__(zh, en)
        self.easting = easting
        self.northing = northing


class SchemaError(EcozoneError, ValueError):
    """Fields or values do not match a layer's schema."""


class RuleError(EcozoneError, ValueError):
    """A rule catalogue or project type is malformed or unknown."""


class OutputExistsError(EcozoneError, FileExistsError):
    """An output exists and ``--force`` was not given."""


class FileFormatError(EcozoneError, OSError):
    """A file cannot be read in the format it claims to be."""


class EcozoneWarning(UserWarning):
    """Root of ecozone warnings: something was fixed or guessed, say so."""


class DataWarning(EcozoneWarning):
    """Attribute data was adjusted (duplicate ids, encoding guess, ...)."""


class GeometryRepairWarning(EcozoneWarning):
    """Geometries were repaired, dropped or stripped of Z/M."""


class CRSWarning(EcozoneWarning):
    """Coordinates look wrong for their CRS (swapped, zone prefix, offset)."""
