"""``ecozone serve``: the web app for planners (新建筛查, 结果, 历史, 分区数据, JSON API)."""

from __future__ import annotations

from pathlib import Path

import click

from spatial.cli.options import zoning_option
from spatial.errors import InputError

__all__ = ["command"]


@click.command("serve")
@zoning_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address; anything but 127.0.0.1 needs users or --token (监听地址).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port (端口).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("ecozone-data"), show_default=True, help="Jobs, uploads, zoning versions and the SQLite database (数据目录).")
@click.option("--db", "db_url", envvar="ECOZONE_DB", default=None, help="Database URL, e.g. postgresql://user@host/ecozone (default: SQLite in --data-dir).")
@click.option("--token", envvar="ECOZONE_TOKEN", default=None, help="API token for scripts (Authorization: Bearer …); env ECOZONE_TOKEN.")
@click.option("--jobs", "workers", type=click.IntRange(min=1), default=2, show_default=True, help="Screenings run at the same time (worker processes).")
@click.option(
    "--no-workers",
    is_flag=True,
    envvar="ECOZONE_NO_WORKERS",
    help="Web tier only: screenings wait in --db for `ecozone worker` on other machines (只做网页，不在本机筛查).",
)
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=200.0, show_default=True, help="Upload limit in MB; larger requests get 413 (上传上限).")
@click.option("--cookie-secure/--no-cookie-secure", default=None, help="Send the session cookie over HTTPS only (default: on unless bound to loopback).")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    envvar="ECOZONE_ALLOWED_HOSTS",
    help="Host name users type in the browser (besides 127.0.0.1, localhost and --host); repeatable. Other Host headers get 400 (允许的主机名).",
)
def command(
    zoning: Path | None,
    host: str,
    port: int,
    data_dir: Path,
    db_url: str | None,
    token: str | None,
    workers: int,
    no_workers: bool,
    max_upload_mb: float,
    cookie_secure: bool | None,
    allowed_hosts: tuple[str, ...],
) -> None:
    """Run the web app (网页版筛查): open http://127.0.0.1:8000 in a browser.

    \b
    On 127.0.0.1 (default) it serves this computer only and needs no login.
    For a bureau intranet, add users first (ecozone users add NAME --admin)
    or set --token, then use --host 0.0.0.0 behind an HTTPS reverse proxy.
    """
    import uvicorn

    from spatial.serve import ServeSettings, create_app
    from spatial.serve.settings import MB
    from spatial.serve.store import Store

    settings = ServeSettings(
        data_dir=data_dir,
        zoning=zoning,
        db_url=db_url,
        host=host,
        token=token,
        workers=workers,
        no_workers=no_workers,
        max_upload_bytes=int(max_upload_mb * MB),
        cookie_secure=cookie_secure,
        allowed_hosts=tuple(h for item in allowed_hosts for h in item.split(",") if h.strip()),
    )
    if not settings.loopback:
        settings.ensure_dirs()
        store = Store(settings.db_url)  # type: ignore[arg-type]
        store.create_schema()
        if not token and not store.has_users():
            raise InputError(
                f"--host {host} 会让局域网内其他电脑访问，但还没有任何用户，也没有设置 --token，已拒绝启动。"
                f"请先运行 ecozone users add 用户名 --admin --data-dir {data_dir}（或设置 --token）。",
                f"--host {host} is reachable from other computers but no users exist and no --token is set; "
                f"run `ecozone users add NAME --admin --data-dir {data_dir}` (or set --token) first",
            )
    app = create_app(settings)
    if host in ("0.0.0.0", "::") and not settings.allowed_hosts:
        click.echo(
            f"提示：只回应主机名 {', '.join(settings.trusted_hosts())}；其他电脑用 IP 或域名访问时，请加 --allowed-host 该名称。"
            f"\nnote: only these Host names are answered; add --allowed-host NAME for the address users type",
            err=True,
        )
    click.echo(f"ecozone serve: http://{host if ':' not in host else '[' + host + ']'}:{port}/  数据目录 data dir: {settings.data_dir}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)
