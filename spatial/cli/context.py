"""What the running command is working on, so an unexpected error can name the file.

A command calls :func:`working_on` before each stage ("zoning", "sites",
"outputs"...).  The catch-all in :mod:`spatial.cli` reads it back: the message
then names the command and the file, and it suggests ``ecozone validate`` only
when the zoning was being processed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import click

__all__ = ["Stage", "working_on", "current_stage", "STAGE_ZH"]

#: Stage kind -> how the message names it.
STAGE_ZH = {
    "zoning": "分区数据",
    "sites": "地块文件",
    "rules": "规则文件",
    "targets": "目标文件",
    "outputs": "输出",
    "input": "输入文件",
}


@dataclass(frozen=True)
class Stage:
    """One stage of a command: what kind of input and which file.

    Attributes
    ----------
    kind : str
        A key of :data:`STAGE_ZH`.
    path : str
        The file as the user named it ('' for the bundled default).
    """

    kind: str
    path: str

    @property
    def zh(self) -> str:
        """E.g. ``地块文件 sites.csv``, ``分区数据（内置连州演示数据）``."""
        return f"{STAGE_ZH.get(self.kind, self.kind)} {self.path}" if self.path else f"{STAGE_ZH.get(self.kind, self.kind)}（内置数据）"

    @property
    def en(self) -> str:
        """E.g. ``sites file sites.csv``."""
        word = {"zoning": "zoning", "sites": "sites file", "outputs": "outputs"}.get(self.kind, f"{self.kind} file")
        return f"{word} {self.path}" if self.path else f"bundled {word}"


def working_on(kind: str, path: str | os.PathLike[str] | None) -> None:
    """Record the stage the current command has reached (no-op outside a click command).

    Parameters
    ----------
    kind : str
        ``zoning``, ``sites``, ``rules``, ``targets``, ``outputs`` or ``input``.
    path : path-like or None
        The file, as the user gave it; None for a bundled default.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    root = ctx.find_root()
    root.ensure_object(dict)
    root.obj["stage"] = Stage(kind, "" if path is None else str(path))


def current_stage(ctx: click.Context) -> Stage | None:
    """Return the last stage recorded in this command run.

    Parameters
    ----------
    ctx : click.Context
        Any context of the run.

    Returns
    -------
    Stage or None
        None when the command recorded nothing.
    """
    obj = ctx.find_root().obj or {}
    return obj.get("stage")
