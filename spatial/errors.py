"""Error hierarchy: every user-facing error is an :class:`EcozoneError`.

Each class also subclasses the builtin a Python caller would expect, so
``except ValueError`` keeps working.  Messages are bilingual, Chinese first,
and always say how to fix the problem.  The CLI turns any ``EcozoneError``
into one message and exit status 2 (no traceback unless ``--debug``).
"""

from __future__ import annotations

import unicodedata

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
    "CoordFileWarning",
    "OfflineAssetError",
    "visible",
]

#: Spaces a planner's text holds on purpose (the ASCII and the ideographic full-width one).
_PLAIN_SPACES = frozenset(" \u3000")


def visible(text: str) -> str:
    r"""Show invisible characters of a message as escapes: ``chemical\u200b``, ``\x00``.

    Zero-width spaces, BOMs, direction marks, control characters and unusual
    spaces pasted with a value are what makes it "unknown" while it prints
    like a known one; a message names them so the user can find them.  Line
    breaks and tabs between message parts stay as they are.

    Parameters
    ----------
    text : str
        A message.

    Returns
    -------
    str
        The message with every such character as ``\uXXXX`` (``\xXX`` below 256).
    """
    out = []
    for ch in str(text):
        cat = unicodedata.category(ch)
        hidden = cat in ("Cf", "Cc", "Co", "Cn", "Zl", "Zp") or (cat == "Zs" and ch not in _PLAIN_SPACES)
        if hidden and ch not in "\n\t":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


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


class CoordFileWarning(EcozoneWarning):
    """A 坐标文件 is readable but inconsistent (e.g. wrong point count)."""


class OfflineAssetError(EcozoneError, RuntimeError):
    """The map HTML needs a script/stylesheet that cannot be served offline."""
