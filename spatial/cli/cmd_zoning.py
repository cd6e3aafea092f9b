"""``ecozone zoning``: publish a zoning package into PostGIS (one schema per version) and list the versions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from spatial.cli.context import working_on

__all__ = ["command"]

_db = click.option("--db", "db", envvar="ECOZONE_ZONING_DB", required=True, help="postgresql://user@host/db (PostGIS 数据库).")


@click.group("zoning")
def command() -> None:
    """Zoning versions kept in PostGIS (分区数据版本库)."""


@command.command("publish")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@_db
@click.option("--label", required=True, help="Version label, e.g. 2026年动态更新 (版本名称).")
@click.option("--issuer", default="", help="Issuing body, e.g. 连州市生态环境局 (发布单位).")
@click.option("--schema", default=None, help="New schema name (default: next free zoning_vN); never overwritten.")
@click.option("--no-validate", is_flag=True, help="Skip ecozone validate (findings stored as not checked 未检查).")
def publish(package: Path, db: str, label: str, issuer: str, schema: str | None, no_validate: bool) -> None:
    """Write PACKAGE into a new schema with its manifest, metadata and GiST indexes (发布分区数据)."""
    from spatial.pgpublish import publish_package

    working_on("zoning", package)
    v = publish_package(package, db, label=label, issuer=issuer, schema=schema, validate=not no_validate)
    click.echo(f"已发布 published: {v.schema}  {v.label}  ({len(v.layers)} 图层 layers, sha256 {v.content_hash[:12]})")
    if v.findings is None:
        click.echo("未检查 not validated (--no-validate)")
    elif v.findings:
        click.echo("检查结果 validate findings: " + ", ".join(f"{k}={n}" for k, n in v.findings.items()))
    click.echo(f"--zoning {v.url}")


@command.command("list")
@_db
@click.option("--json", "as_json", is_flag=True, help="Print JSON (机器可读).")
def list_(db: str, as_json: bool) -> None:
    """List the zoning versions published in the database (版本列表)."""
    from spatial.pgpublish import list_versions

    versions = list_versions(db)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in versions], ensure_ascii=False, indent=1))
        return
    if not versions:
        click.echo("数据库中没有已发布的分区版本 / no zoning version published in this database")
    for v in versions:
        checked = "未检查 not validated" if v.findings is None else (", ".join(f"{k}={n}" for k, n in v.findings.items()) or "无问题 clean")
        click.echo(f"{v.schema}\t{v.published}\t{v.label}\t{v.issuer or '—'}\t{v.content_hash[:12]}\t{checked}\t{v.url}")
