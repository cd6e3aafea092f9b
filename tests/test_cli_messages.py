"""First contact with the command line: usage errors in Chinese first, a catch-all that names the file, full help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from spatial.cli import COMMANDS, cli


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def _chinese_first(text: str, zh: str, en: str) -> None:
    assert zh in text and en in text, text
    assert text.index(zh) < text.index(en), text


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["scren"], "没有子命令 'scren'。您是不是要用：screen", "No such command 'scren'. Did you mean screen"),
        (["valdate"], "您是不是要用：validate", "Did you mean validate"),
        (["screen"], "缺少必需的参数 'SITES'", "Missing argument 'SITES'"),
        (["screen", "nowhere.csv", "--out", "o"], "路径 nowhere.csv 不存在", "Path 'nowhere.csv' does not exist"),
        (["indicators", "-z", "demo"], "缺少必需的选项 '--out' / '-o'", "Missing option '--out'"),
        (["--bogus"], "没有选项 --bogus", "No such option '--bogus'"),
    ],
)
def test_click_usage_errors_are_bilingual(args: list[str], zh: str, en: str) -> None:
    code, out = _run(*args)
    assert code == 2
    _chinese_first(out, zh, en)
    assert "错误/error:" in out and "Traceback" not in out


def test_bad_values_and_unknown_options(tmp_path: Path) -> None:
    sites = tmp_path / "s.csv"
    sites.write_text("lon,lat\n112.4,24.8\n", encoding="utf-8")
    code, out = _run("screen", str(sites), "--out", str(tmp_path / "o"), "--fail-on", "bad")
    assert code == 2
    _chinese_first(out, "'--fail-on' 的值无效：bad 不是可选值", "Invalid value for '--fail-on'")
    code, out = _run("screen", str(sites), "--outt", str(tmp_path / "o"))
    assert code == 2
    _chinese_first(out, "没有选项 --outt。您是不是要用：--out", "No such option '--outt'")
    code, out = _run("screen", str(sites), "--out", str(tmp_path / "o"), "--threads", "0")
    _chinese_first(out, "0 超出允许范围", "is not in the range")
    code, out = _run("screen", str(sites), "--out", str(tmp_path / "o"), "-t")
    assert code == 2
    _chinese_first(out, "选项 -t 后面需要一个值", "Option '-t' requires an argument")
    assert "帮助/help: ecozone screen --help" not in out or "Usage" in out


def test_usage_error_with_debug_shows_traceback() -> None:
    res = CliRunner().invoke(cli, ["--debug", "scren"])
    assert res.exit_code == 2
    assert "Traceback" in res.output and "没有子命令" in res.output


def _sites(tmp_path: Path) -> Path:
    p = tmp_path / "sites.csv"
    p.write_text("site_id,lon,lat,project_type\nA,112.40,24.80,化工\n", encoding="utf-8")
    return p


def _screen_failing(tmp_path: Path, toy_gpkg: Path, monkeypatch: pytest.MonkeyPatch, module: object, name: str, exc: Exception) -> tuple[int, str]:
    """Run ``ecozone screen`` on the toy with ``module.name`` raising ``exc``: (exit code, output)."""

    def boom(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(module, name, boom)
    return _run("screen", str(_sites(tmp_path)), "-z", str(toy_gpkg), "--out", str(tmp_path / "o"), "--no-map")


@pytest.mark.slow
def test_catch_all_names_command_and_sites_file_without_validate(tmp_path: Path, toy_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spatial.job as job

    code, out = _screen_failing(tmp_path, toy_gpkg, monkeypatch, job, "prepare_inputs", RuntimeError("GEOS said no"))
    assert code == 2
    _chinese_first(out, "处理时出错（ecozone screen，处理地块文件", "ecozone screen failed (ecozone screen, while processing sites file")
    assert "sites.csv" in out and "GEOS said no" in out and "--debug" in out
    assert "validate" not in out  # the zoning is not the suspect
    res = CliRunner().invoke(cli, ["--debug", "screen", str(_sites(tmp_path)), "-z", str(toy_gpkg), "--out", str(tmp_path / "o2"), "--no-map"])
    assert isinstance(res.exception, RuntimeError)  # --debug: the real error and its traceback


def test_catch_all_suggests_validate_when_zoning_fails(tmp_path: Path, toy_gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spatial.cache as cache

    code, out = _screen_failing(tmp_path, toy_gpkg, monkeypatch, cache, "load_zoning_cached", KeyError("geometry"))
    assert code == 2
    assert f"ecozone validate {toy_gpkg}" in out and "分区数据" in out


def test_help_lists_every_command_in_full() -> None:
    code, out = _run("--help")
    assert code == 0
    for name, text in COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(text)}$", out, re.M), (name, out)
    listing = out.split("Commands:")[1]
    assert "..." not in listing and "…" not in listing
    code, out = _run("screen", "--help")
    flat = " ".join(out.split())
    assert "Do not write map.html, report.html or report.xlsx" in flat and "sites.csv, hits.csv and the spatial output are still written" in flat


@pytest.mark.slow
def test_zoning_demo_names_the_bundled_package() -> None:
    code, out = _run("layers", "--zoning", "demo")
    assert code == 0, out
    assert "lianzhou_demo.gpkg" in out
    code, out = _run("validate", "demo")
    assert code in (0, 1), out


@pytest.mark.parametrize("verb", ["list", "publish"])
def test_zoning_db_unreachable_names_the_url_without_its_password(verb: str, tmp_path: Path) -> None:
    """``ecozone zoning list/publish`` against a database that is not there: exit 2, Chinese first, password masked."""
    from spatial.zoning import demo_zoning_path

    url = "postgresql://planner:s3cret-pw@127.0.0.1:1/bureau"
    args = ["zoning", "list", "--db", url] if verb == "list" else ["zoning", "publish", str(demo_zoning_path()), "--db", url, "--label", "2026版", "--no-validate"]
    code, out = _run(*args)
    assert code == 2, out
    assert "s3cret-pw" not in out and "Traceback" not in out
    _chinese_first(out, "无法连接数据库 postgresql://planner:***@127.0.0.1:1/bureau", "cannot connect to postgresql://planner:***@127.0.0.1:1/bureau")
    assert "PGPASSWORD" in out
