"""Field aliases shared by several layer kinds."""

from __future__ import annotations

from layers.base import FieldSpec

__all__ = ["id_field", "name_field", "code_field"]


def id_field(*extra: str) -> FieldSpec:
    """Return the standard ``id`` field with common source aliases.

    Parameters
    ----------
    *extra : str
        Layer-specific aliases, tried first.

    Returns
    -------
    FieldSpec
        The ``id`` field.
    """
    return FieldSpec("id", "编号", (*extra, "bsm", "标识码", "编号", "代码", "ysdm", "fid_1", "objectid"))


def name_field(*extra: str) -> FieldSpec:
    """Return the standard ``name`` field with common source aliases.

    Parameters
    ----------
    *extra : str
        Layer-specific aliases, tried first.

    Returns
    -------
    FieldSpec
        The ``name`` field.
    """
    return FieldSpec("name", "名称", (*extra, "mc", "名称", "name_zh", "名字"))


def code_field(*extra: str) -> FieldSpec:
    """Return the standard ``code`` field with common source aliases.

    Parameters
    ----------
    *extra : str
        Layer-specific aliases, tried first.

    Returns
    -------
    FieldSpec
        The ``code`` field.
    """
    return FieldSpec("code", "编码", (*extra, "bm", "编码", "代码", "dm"))
