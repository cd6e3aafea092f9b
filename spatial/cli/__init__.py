"""The ``ecozone`` command line: one sub-command module each.

User errors (:class:`spatial.errors.EcozoneError`) print one bilingual
message and exit 2; ``--debug`` shows the traceback.  Warnings print as one
line each on stderr.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
import warnings
from typing import Any

import click

from spatial._version import __version__
from spatial.cli.context import current_stage
from spatial.cli.usage import bilingual
from spatial.errors import EcozoneError, visible

__all__ = ["main", "cli", "UserError"]

#: sub-command -> one-line help shown in full in ``ecozone --help`` (the module is imported only when run).
COMMANDS = {
    "demo": "全流程演示（内置连州数据） / whole pipeline on the bundled 连州 demo",
    "layers": "列出分区数据的图层 / list the layers of a zoning package",
    "screen": "项目选址符合性筛查 / screen project sites against the zoning rules",
    "indicators": "面积指标与目标对照 / area indicators against targets",
    "diff": "红线调整审计（面积不减少） / audit a red-line change",
    "validate": "检查分区数据完整性 / check a zoning package's integrity",
    "map": "生成交互式分区地图 / draw an interactive zoning map",
    "convert": "坐标转换（含 GCJ-02/BD-09） / convert vector files between CRSs",
    "rules": "有效规则、层级与依据 / effective rules, levels and sources",
    "suitability": "选址适宜性分区 / map where a project type may go",
    "alternatives": "替代选址 / positions where a failing site's footprint would pass",
    "compare": "方案比选（两版分区或规则） / screen sites under two zonings or catalogues",
    "serve": "网页版筛查（本机或局域网） / run the web app for planners",
    "users": "网页版用户管理 / manage users of the web app",
    "lists": "准入清单解析审核 / review how an access list is parsed",
    "zoning": "分区数据版本库（PostGIS） / zoning versions in PostGIS",
    "worker": "任务队列工作进程（多机部署） / take screening jobs from the shared queue",
}


class UserError(click.ClickException):
    """An :class:`EcozoneError` as the CLI shows it: one message, exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the bilingual message in red on stderr."""
        click.secho(f"错误/error: {visible(self.message)}", fg="red", err=True)


class LazyGroup(click.Group):
    """A click group whose sub-commands live in their own modules.

    It is also where every error of every sub-command is shaped once: click's
    usage errors become bilingual (with "did you mean"), ecozone errors one
    message, anything unexpected one message naming the command and the file
    being processed; ``--debug`` adds the traceback to each.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return sub-command names whose module is present."""
        return [n for n in COMMANDS if importlib.util.find_spec(f"spatial.cli.cmd_{n}") is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return a sub-command."""
        if cmd_name not in COMMANDS or importlib.util.find_spec(f"spatial.cli.cmd_{cmd_name}") is None:
            return None
        command = importlib.import_module(f"spatial.cli.cmd_{cmd_name}").command
        command.short_help = command.short_help or COMMANDS[cmd_name]
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every sub-command with its whole one-line help (click would cut it with "...")."""
        rows = [(name, COMMANDS[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("命令 Commands"):
                formatter.write_dl(rows)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Parse the group's own options; a usage error there is bilingual too."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise bilingual(exc) from exc

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Remember the command line (for each output set's run.json)."""
        ctx.meta["ecozone.argv"] = ["ecozone", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run a sub-command; every error becomes one bilingual message (traceback too with --debug)."""
        previous = warnings.showwarning
        warnings.showwarning = _show_warning
        try:
            return super().invoke(ctx)
        except EcozoneError as exc:
            if _debug(ctx):
                raise
            raise UserError(str(exc)) from exc
        except click.UsageError as exc:
            if _debug(ctx):
                traceback.print_exc()
            raise bilingual(exc, self.list_commands(ctx)) from exc
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own control flow (ctx.exit(1), Ctrl-C)
        except MemoryError as exc:  # too big a request, not a broken zoning: name the option to change
            if _debug(ctx):
                raise
            from spatial.budget import memory_error_message

            zh, en = memory_error_message(ctx.invoked_subcommand or "")
            raise UserError(f"{zh}\n{en}") from exc
        except OSError as exc:  # disk full, permission denied, a file vanished mid-run
            if _debug(ctx):
                raise
            where = _where(ctx)
            raise UserError(
                f"读写文件失败{where[0]}：{exc}。请检查路径、权限和磁盘空间。\n"
                f"file I/O failed{where[1]}: {exc}; check the path, permissions and free space"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never a bare traceback
            if _debug(ctx):
                raise
            raise UserError(_unexpected(ctx, exc)) from exc
        finally:
            warnings.showwarning = previous


def _debug(ctx: click.Context) -> bool:
    """Whether ``--debug`` was given (parsed before any sub-command is resolved)."""
    return bool(ctx.find_root().params.get("debug") or (ctx.obj or {}).get("debug"))


def _where(ctx: click.Context) -> tuple[str, str]:
    """Name the command and the file being processed, e.g. ``（ecozone screen，地块文件 a.csv）``."""
    sub = ctx.invoked_subcommand or ""
    stage = current_stage(ctx)
    if stage is None:
        return f"（ecozone {sub}）", f" (ecozone {sub})"
    return f"（ecozone {sub}，处理{stage.zh} 时）", f" (ecozone {sub}, while processing {stage.en})"


def _unexpected(ctx: click.Context, exc: Exception) -> str:
    """Build the catch-all message: what failed where, and the next step that fits the stage."""
    zh_where, en_where = _where(ctx)
    stage = current_stage(ctx)
    what = f"{type(exc).__name__}: {exc}"
    if stage is not None and stage.kind == "zoning":
        cmd = f"ecozone validate {stage.path}".strip()
        zh_next = f"分区数据可能有未识别的问题，请先运行 {cmd} 检查；如仍失败，"
        en_next = f"Check the zoning with `{cmd}`; if it persists, "
    elif stage is not None and stage.kind in ("sites", "input", "rules", "targets"):
        zh_next = f"请检查{stage.zh}的内容与格式；如仍失败，"
        en_next = f"Check the contents and format of {stage.en}; if it persists, "
    else:
        zh_next, en_next = "", ""
    return (
        f"处理时出错{zh_where}：{what}。{zh_next}请加 --debug 重试（显示详细错误）并报告此问题。\n"
        f"ecozone {ctx.invoked_subcommand or ''} failed{en_where}: {what}. {en_next}rerun with --debug and report it"
    )


def _show_warning(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    click.secho(f"警告/warning: {visible(str(message))}", fg="yellow", err=True)


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
