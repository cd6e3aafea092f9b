"""The ``ecozone`` command line: one sub-command module each.

User errors (:class:`spatial.errors.EcozoneError`) print one bilingual
message and exit 2; ``--debug`` shows the traceback.  Warnings print as one
line each on stderr.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

import click

from spatial._version import __version__
from spatial.errors import EcozoneError

__all__ = ["main", "cli", "UserError"]

#: sub-command -> module under spatial.cli (imported on first use, so `ecozone --help` is fast).
COMMANDS = {
    "demo": "Run the whole pipeline on the bundled 连州 demo data.",
    "layers": "List the layers of a zoning package.",
    "screen": "Screen project sites against the zoning rules.",
    "indicators": "Compute area indicators against targets.",
    "diff": "Audit a red-line change (面积不减少).",
    "validate": "Check a zoning package's integrity.",
    "map": "Draw an interactive zoning map.",
    "convert": "Convert vector files between CRSs, incl. GCJ-02/BD-09.",
    "serve": "Run the web app for planners (网页版).",
    "users": "Manage users of the web app.",
}


class UserError(click.ClickException):
    """An :class:`EcozoneError` as the CLI shows it: one message, exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the bilingual message in red on stderr."""
        click.secho(f"错误/error: {self.message}", fg="red", err=True)


class LazyGroup(click.Group):
    """A click group whose sub-commands live in their own modules."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return sub-command names whose module is present."""
        return [n for n in COMMANDS if importlib.util.find_spec(f"spatial.cli.cmd_{n}") is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return a sub-command."""
        if cmd_name not in COMMANDS or importlib.util.find_spec(f"spatial.cli.cmd_{cmd_name}") is None:
            return None
        return importlib.import_module(f"spatial.cli.cmd_{cmd_name}").command

    def invoke(self, ctx: click.Context) -> Any:
        """Run a sub-command; user errors become one message and exit 2."""
        previous = warnings.showwarning
        warnings.showwarning = _show_warning
        try:
            return super().invoke(ctx)
        except EcozoneError as exc:
            if (ctx.obj or {}).get("debug"):
                raise
            raise UserError(str(exc)) from exc
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own control flow (usage errors, ctx.exit(1), Ctrl-C)
        except OSError as exc:  # disk full, permission denied, a file vanished mid-run
            if (ctx.obj or {}).get("debug"):
                raise
            raise UserError(
                f"读写文件失败：{exc}。请检查路径、权限和磁盘空间。\nfile I/O failed: {exc}; check the path, permissions and free space"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never a bare traceback
            if (ctx.obj or {}).get("debug"):
                raise
            sub = ctx.invoked_subcommand or ""
            raise UserError(
                f"处理时出错（ecozone {sub}）：{type(exc).__name__}: {exc}。输入数据可能有未识别的问题，请先运行 "
                f"ecozone validate 检查分区数据；如仍失败，请加 --debug 重试并报告此问题。\n"
                f"ecozone {sub} failed: {type(exc).__name__}: {exc}. Run `ecozone validate` on the zoning; "
                "if it persists, rerun with --debug and report it"
            ) from exc
        finally:
            warnings.showwarning = previous


def _show_warning(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    click.secho(f"警告/warning: {message}", fg="yellow", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ecozone")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (显示详细错误).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Ecological zoning checks for Chinese planning / 生态环境分区管控符合性分析."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ecozone`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    """
    cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="ecozone")
