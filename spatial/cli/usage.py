"""click's own usage errors, said in Chinese first and English second, like every other message.

click raises typed exceptions (missing option, bad value, unknown option or
command) with English text.  :func:`bilingual` turns any of them into a
:class:`BilingualUsageError` whose Chinese line is built from the exception's
type and attributes and whose English line is click's own message, so new
options and commands get bilingual errors without any per-command code.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import click
from click import exceptions as cx

__all__ = ["BilingualUsageError", "bilingual", "did_you_mean"]

#: click's English value messages (click.types) -> Chinese; {0}, {1} are the captured groups.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?:File|Directory|Path) '?(.*?)'? does not exist\.?$"), "路径 {0} 不存在，请检查拼写和当前目录"),
    (re.compile(r"^(?:File|Path) '?(.*?)'? is a directory\.?$"), "{0} 是文件夹，这里需要文件"),
    (re.compile(r"^(?:Directory|Path) '?(.*?)'? is a file\.?$"), "{0} 是文件，这里需要文件夹"),
    (re.compile(r"^(?:File|Directory|Path) '?(.*?)'? is not readable\.?$"), "{0} 没有读取权限"),
    (re.compile(r"^(?:File|Directory|Path) '?(.*?)'? is not writable\.?$"), "{0} 没有写入权限"),
    (re.compile(r"^'?(.*?)'? is not one of (.*?)\.?$"), "{0} 不是可选值，可选：{1}"),
    (re.compile(r"^'?(.*?)'? is not a valid integer( range)?\.?$"), "{0} 不是整数"),
    (re.compile(r"^'?(.*?)'? is not a valid float( range)?\.?$"), "{0} 不是数值"),
    (re.compile(r"^'?(.*?)'? is not a valid boolean\.?$"), "{0} 不是是/否值（可用 yes/no、true/false、1/0）"),
    (re.compile(r"^(.*?) is not in the range (.*?)\.?$"), "{0} 超出允许范围 {1}"),
    (re.compile(r"^Option '?(.*?)'? requires an argument\.?$"), "选项 {0} 后面需要一个值"),
    (re.compile(r"^Option '?(.*?)'? requires (\d+) arguments\.?$"), "选项 {0} 后面需要 {1} 个值"),
    (re.compile(r"^Option '?(.*?)'? does not take a value\.?$"), "选项 {0} 不带值"),
)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> list[str]:
    """Return the choices close to a mistyped word, best first.

    Parameters
    ----------
    word : str
        What the user typed.
    choices : sequence of str
        Valid words.

    Returns
    -------
    list of str
        Up to three close matches.
    """
    return difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)


def _value_zh(message: str) -> str:
    """Translate one of click's value messages (the English text when it is not one we know)."""
    for pattern, zh in _VALUE_PATTERNS:
        m = pattern.match(message.strip())
        if m:
            return zh.format(*(g or "" for g in m.groups()))
    return message.strip().rstrip(".")


def _hint(exc: cx.BadParameter) -> str:
    """Name the option or argument the way the user typed it (``'--out' / '-o'``)."""
    if exc.param_hint is not None:
        hint = exc.param_hint
        return " / ".join(hint) if isinstance(hint, (list, tuple)) else str(hint)
    if exc.param is not None:
        return str(exc.param.get_error_hint(exc.ctx))
    return ""


def _chinese(exc: click.UsageError) -> str:
    """Return the Chinese line for a click usage error."""
    if isinstance(getattr(exc, "zh", None), str):  # raised by ecozone with its own Chinese text
        return str(exc.zh)
    if isinstance(exc, cx.MissingParameter):
        kind = {"argument": "参数", "option": "选项"}.get(exc.param_type or getattr(exc.param, "param_type_name", ""), "参数")
        return f"缺少必需的{kind} {_hint(exc)}。"
    if isinstance(exc, cx.BadParameter):
        return f"{_hint(exc)} 的值无效：{_value_zh(exc.message)}。"
    if isinstance(exc, cx.NoSuchCommand):
        return f"没有子命令 '{exc.command_name}'。"
    if isinstance(exc, cx.NoSuchOption):
        return f"没有选项 {exc.option_name}。"
    if isinstance(exc, cx.BadOptionUsage):
        zh = _value_zh(exc.message)
        return f"{zh}。" if zh != exc.message.strip().rstrip(".") else f"选项 {exc.option_name} 用法错误：{zh}。"
    m = re.match(r"^Got unexpected extra arguments? \((.*)\)$", exc.message)
    if m:
        return f"多余的参数：{m.group(1)}（含空格的路径请加引号）。"
    return _value_zh(exc.message)


class BilingualUsageError(click.UsageError):
    """A click usage error shown with its usage line, the Chinese message, then click's English one.

    Parameters
    ----------
    original : click.UsageError
        The error click raised.
    suggestions : list of str, optional
        Close matches for a mistyped option or command.
    """

    exit_code = 2

    def __init__(self, original: click.UsageError, suggestions: list[str] | None = None) -> None:
        self.original = original
        self.suggestions = suggestions if suggestions is not None else list(getattr(original, "possibilities", None) or [])
        super().__init__(original.format_message(), original.ctx)

    def format_message(self) -> str:
        """Return the Chinese line, the "did you mean", and click's English line."""
        zh = _chinese(self.original)
        en = self.original.format_message()
        if self.suggestions:
            zh += f"您是不是要用：{'、'.join(self.suggestions)}？"
            if not isinstance(self.original, cx.NoSuchOption):  # click adds its own for options
                en += f" Did you mean {', '.join(self.suggestions)}?"
        return f"{zh}\n{en}"

    def show(self, file: Any = None) -> None:
        """Print usage, the bilingual message and where to find help, on stderr."""
        if self.ctx is not None:
            click.echo(self.ctx.get_usage(), err=True)
            click.echo(f"帮助/help: {self.ctx.command_path} --help", err=True)
        click.secho(f"错误/error: {self.format_message()}", fg="red", err=True)


def bilingual(exc: click.UsageError, choices: list[str] | None = None) -> BilingualUsageError:
    """Wrap a click usage error so it prints Chinese first.

    Parameters
    ----------
    exc : click.UsageError
        The error click raised (returned unchanged when already bilingual).
    choices : list of str, optional
        Valid command names, for a "did you mean" on an unknown command.

    Returns
    -------
    BilingualUsageError
        The error to raise instead.
    """
    if isinstance(exc, BilingualUsageError):
        return exc
    suggestions = did_you_mean(exc.command_name, choices) if isinstance(exc, cx.NoSuchCommand) and choices else None
    return BilingualUsageError(exc, suggestions)
