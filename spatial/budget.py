"""Bounded work: options that multiply work are checked up front, memory before big allocations.

``alternatives --rotate 0.01`` once built 18 000 rotations of every grid
position and grew past 15 GB; ``suitability --resolution 0.01`` would write
a raster of 10^13 cells.  Every such option is estimated before the work
starts and refused past a limit with :class:`WorkLimitError`, which names
the option, the estimate and a value that fits.  A ``MemoryError`` that
slips through is reported by the CLI with :func:`memory_error_message`
("数据量过大…"), never as a zoning problem.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from spatial.errors import InputError

__all__ = [
    "WorkLimitError",
    "MAX_FOOTPRINTS",
    "MAX_RASTER_CELLS",
    "MAX_DEM_CELLS",
    "available_memory",
    "check_memory",
    "check_count",
    "check_raster",
    "memory_error_message",
    "OPTIONS_BY_COMMAND",
]

#: Candidate footprints ``alternatives`` may build per site (positions × rotations; about 1 KB each).
MAX_FOOTPRINTS = 2_000_000
#: Cells of one suitability GeoTIFF (1 byte each; Guangdong at 30 m is about 5·10^8).
MAX_RASTER_CELLS = 2_000_000_000
#: Cells of a DEM read for slope (float64 plus slope and reprojection: about 32 bytes each).
MAX_DEM_CELLS = 400_000_000
#: What to change when a command runs out of memory anyway.
OPTIONS_BY_COMMAND = {
    "alternatives": ("--rotate（加大步长）、--max-distance-km（缩小半径）、--n", "--rotate (larger step), --max-distance-km (smaller), --n"),
    "suitability": ("--resolution（加大像元）、--dem（较粗的高程）、-t（分次运行）", "--resolution (larger), a coarser --dem, fewer -t per run"),
    "screen": ("--chunk-size（减小）、--threads（减少）或分批筛查", "--chunk-size (smaller), --threads (fewer), or screen in batches"),
    "compare": ("分批比较地块", "compare the sites in batches"),
}


class WorkLimitError(InputError):
    """An option asks for more work or memory than the limit; the message names the option and the estimate."""


def available_memory() -> int | None:
    """Bytes this process may still allocate: free RAM, or the cgroup's limit if lower (None if unknown).

    Returns
    -------
    int or None
        Available bytes.
    """
    avail: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except OSError:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    try:  # a container's limit (cgroup v2) is the real ceiling
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            room = int(limit) - used
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.1f} GB"


def check_memory(nbytes: float, what_zh: str, what_en: str, option: str) -> None:
    """Refuse an allocation that does not fit in the memory available now.

    Parameters
    ----------
    nbytes : float
        Estimated bytes the step needs.
    what_zh, what_en : str
        The step, e.g. ``高程数据 dem.tif（12000×9000 像元）``.
    option : str
        The option or input to change.

    Raises
    ------
    WorkLimitError
        When ``nbytes`` exceeds the available memory.
    """
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise WorkLimitError(
            f"数据量过大：{what_zh}约需 {_gb(nbytes)} 内存，本机可用约 {_gb(avail)}。请调整 {option} 后重试。",
            f"too much data: {what_en} needs about {_gb(nbytes)} of memory, {_gb(avail)} available; change {option}",
        )


def check_count(count: float, limit: float, what_zh: str, what_en: str, option: str, fix_zh: str, fix_en: str) -> None:
    """Refuse a step whose estimated size passes a fixed limit, before it starts.

    Parameters
    ----------
    count : float
        Estimated items (footprints, cells …).
    limit : float
        Largest accepted.
    what_zh, what_en : str
        What is counted, e.g. ``候选位置×旋转角度``.
    option : str
        The option that multiplies the work.
    fix_zh, fix_en : str
        A value of the option that fits.

    Raises
    ------
    WorkLimitError
        When ``count > limit``.
    """
    if not math.isfinite(count) or count > limit:
        raise WorkLimitError(
            f"数据量过大：{option} 将产生约 {count:.3g} 个{what_zh}，上限 {limit:.3g}。{fix_zh}",
            f"too much work: {option} would create about {count:.3g} {what_en}, limit {limit:.3g}; {fix_en}",
        )


def check_raster(bounds: tuple[float, float, float, float], resolution: float, option: str = "--resolution") -> int:
    """Check the cells of a raster over ``bounds`` at ``resolution`` (metres) before writing it.

    Parameters
    ----------
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in a metric CRS.
    resolution : float
        Pixel size in metres.
    option : str, default '--resolution'
        The option named in the message.

    Returns
    -------
    int
        Estimated cells.

    Raises
    ------
    WorkLimitError
        More than :data:`MAX_RASTER_CELLS` cells.
    """
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    cells = math.ceil(max(xmax - xmin, resolution) / resolution) * math.ceil(max(ymax - ymin, resolution) / resolution)
    fit = math.sqrt(max(xmax - xmin, 1.0) * max(ymax - ymin, 1.0) / MAX_RASTER_CELLS)
    check_count(
        cells, MAX_RASTER_CELLS, f"像元（{(xmax - xmin) / 1000:.1f}×{(ymax - ymin) / 1000:.1f} km，{resolution:g} m）",
        f"cells ({(xmax - xmin) / 1000:.1f} x {(ymax - ymin) / 1000:.1f} km at {resolution:g} m)", f"{option} {resolution:g}",
        f"请把 {option} 设为 {math.ceil(fit * 10) / 10:g} m 或更大。", f"use {option} {math.ceil(fit * 10) / 10:g} or larger",
    )  # fmt: skip
    return int(cells)


def memory_error_message(command: str) -> tuple[str, str]:
    """Return the message for a MemoryError in a command: too much data, and the option to change.

    Parameters
    ----------
    command : str
        Sub-command name.

    Returns
    -------
    (str, str)
        Chinese and English text.
    """
    zh, en = OPTIONS_BY_COMMAND.get(command, ("输入规模（分批处理）", "the input size (work in batches)"))
    return (
        f"数据量过大，内存不足（ecozone {command}）。请调整 {zh} 后重试；这不是分区数据的问题。",
        f"too much data for the memory available (ecozone {command}); change {en}. This is not a problem of the zoning",
    )
