"""``ecozone users``: accounts for ``ecozone serve`` (passwords stored as argon2 hashes)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from spatial.errors import InputError

if TYPE_CHECKING:
    from spatial.serve.store import Store

__all__ = ["command"]


def _store(data_dir: Path, db_url: str | None) -> Store:
    from spatial.serve import ServeSettings
    from spatial.serve.store import Store

    settings = ServeSettings(data_dir=data_dir, db_url=db_url)
    settings.ensure_dirs()
    store = Store(settings.db_url)  # type: ignore[arg-type]
    store.create_schema()
    return store


def _password_hash(password: str | None, prompt: str) -> str:
    """Ask for the password twice (hidden) unless given, check its length, and return its hash."""
    from spatial.serve.auth import hash_password

    if password is None:
        password = click.prompt(prompt, hide_input=True, confirmation_prompt="再输入一次 repeat")
    if len(password) < 8:
        raise InputError("密码至少 8 个字符。", "the password needs at least 8 characters")
    return hash_password(password)


_data_dir = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("ecozone-data"), show_default=True, help="Data directory of ecozone serve (数据目录).")
_db = click.option("--db", "db_url", envvar="ECOZONE_DB", default=None, help="Database URL (default: SQLite in --data-dir).")


@click.group("users")
def command() -> None:
    """Manage users of ecozone serve (用户管理)."""


@command.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May see every user's screenings and accept zoning versions (管理员).")
@click.option("--password", envvar="ECOZONE_PASSWORD", default=None, help="Password (default: asked twice, hidden; env ECOZONE_PASSWORD).")
@_data_dir
@_db
def add(name: str, admin: bool, password: str | None, data_dir: Path, db_url: str | None) -> None:
    """Add user NAME (添加用户)."""
    name = name.strip()
    if not name or len(name) > 64 or name in ("token", "本机"):
        raise InputError(f"用户名“{name}”不可用（1–64 个字符，不能是 token 或 本机）。", f"user name {name!r} is not allowed")
    store = _store(data_dir, db_url)
    if store.user(name) is not None:
        raise InputError(f"用户 {name} 已存在。", f"user {name} already exists")
    store.add_user(name, _password_hash(password, "密码 password"), admin=admin)
    click.echo(f"已添加用户 {name}{'（管理员）' if admin else ''} / user added")


@command.command("list")
@_data_dir
@_db
def list_users(data_dir: Path, db_url: str | None) -> None:
    """List users (列出用户)."""
    for u in _store(data_dir, db_url).users():
        click.echo(f"{u.name}\t{'admin' if u.is_admin else 'user'}\t{u.created:%Y-%m-%d}")


@command.command("remove")
@click.argument("name")
@_data_dir
@_db
def remove(name: str, data_dir: Path, db_url: str | None) -> None:
    """Remove user NAME (删除用户); their screenings stay in the history."""
    if not _store(data_dir, db_url).remove_user(name):
        raise InputError(f"没有用户 {name}。", f"no user {name}")
    click.echo(f"已删除用户 {name}，其登录已全部失效 / user removed, their logins ended")


@command.command("passwd")
@click.argument("name")
@click.option("--password", envvar="ECOZONE_PASSWORD", default=None, help="New password (default: asked twice, hidden; env ECOZONE_PASSWORD).")
@_data_dir
@_db
def passwd(name: str, password: str | None, data_dir: Path, db_url: str | None) -> None:
    """Set a new password for NAME (修改密码); every login of NAME ends at once."""
    store = _store(data_dir, db_url)
    if store.user(name) is None:
        raise InputError(f"没有用户 {name}。", f"no user {name}")
    store.set_password(name, _password_hash(password, "新密码 new password"), revoke=True)
    click.echo(f"已修改用户 {name} 的密码，其已登录的会话全部失效 / password changed, logins ended")
