"""``ecozone worker``: take screening jobs from the durable queue (a web tier started with ``serve --no-workers``)."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.job import parse_products

__all__ = ["command"]


@click.command("worker")
@click.option(
    "--queue",
    "--db",
    "queue_url",
    envvar="ECOZONE_DB",
    required=True,
    help="Queue database, the web server's --db: postgresql://user@host/ecozone (several machines) or sqlite:///DIR/ecozone.db (任务队列数据库).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="ECOZONE_DATA_DIR",
    required=True,
    help="The data dir shared with the web servers (NFS/SMB mount); results are written there (共享数据目录).",
)
@click.option("--jobs", "processes", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes on this machine (about one per CPU core).")
@click.option("--lease", "lease_s", type=click.FloatRange(min=1.0), default=60.0, show_default=True, help="Seconds a job stays claimed without a heartbeat; a dead worker's job is taken over after this (租约秒数).")
@click.option(
    "--products",
    default="all",
    show_default=True,
    help="Files each job writes, as ecozone screen --products: tables, gpkg, map, html, docx, xlsx, pdf, figures, report, all (结果文件).",
)
@click.option("--poll", "poll_s", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Seconds between looks at an empty queue.")
def command(queue_url: str, data_dir: Path, processes: int, lease_s: float, products: str, poll_s: float) -> None:
    """Run screening workers for a web tier started with `ecozone serve --no-workers` (任务队列工作进程).

    \b
    Start one per machine, on as many machines as needed; each mounts the
    same data dir. SIGTERM or Ctrl-C stops after the current job; a second
    one stops at once (the job is then taken over when its lease expires).
    """
    import logging

    from spatial.serve.jobqueue import check_data_dir, open_queue, run_workers, shown_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(process)d %(message)s")
    chosen = parse_products(products)
    data = check_data_dir(data_dir)
    open_queue(queue_url).close()
    click.echo(f"ecozone worker: 队列 queue {shown_url(queue_url)}  数据目录 data dir {data}  进程 processes {processes}  租约 lease {lease_s:g} s", err=True)
    run_workers(queue_url, data, processes, lease_s=lease_s, poll_s=poll_s, products=chosen)
