"""An output set is one unit: staged, locked, swapped in whole, traceable, never touching an input.

Every test builds its inputs in code and hashes them before and after.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import km_point

from spatial.cli import cli
from spatial.io import file_sha256
from spatial.outset import RUN_FILE, OutputLockedError, locked, output_set


def _inputs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    gdf = gpd.GeoDataFrame(
        {"site_id": ["RL", "OK"], "project_type": ["住宅", "商业"]}, geometry=[km_point(3.5, 3.5), km_point(18, 19)], crs="EPSG:4547"
    ).to_crs(4326)
    path = folder / "sites.csv"
    pd.DataFrame({"site_id": gdf.site_id, "project_type": gdf.project_type, "经度": gdf.geometry.x, "纬度": gdf.geometry.y}).to_csv(
        path, index=False, encoding="utf-8-sig"
    )
    return path


def _screen(sites: Path, zoning: Path, out: Path, *extra: str):
    return CliRunner().invoke(cli, ["screen", str(sites), "-z", str(zoning), "--out", str(out), *extra])


@pytest.mark.slow
def test_set_carries_run_json_tracing_every_file(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    sites = _inputs(tmp_path / "in")
    before = hash_tree(tmp_path / "in") | hash_tree(toy_gpkg.parent)
    out = tmp_path / "out"
    res = _screen(sites, toy_gpkg, out, "--no-map")
    assert res.exit_code == 0, res.output
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert record["command"][:2] == ["ecozone", "screen"] and str(out) in record["command"]
    assert record["ecozone_version"] and record["run_id"] and record["started"] <= record["finished"]
    hashed = {Path(i["path"]).name: i["sha256"] for i in record["inputs"]}
    assert hashed["sites.csv"] == file_sha256(sites) and hashed["toy.gpkg"] == file_sha256(toy_gpkg)
    files = {f["name"]: f["sha256"] for f in record["files"]}
    on_disk = {p.name for p in out.iterdir()} - {RUN_FILE}
    assert set(files) == on_disk == {"sites.csv", "hits.csv", "rules.csv", "screening.gpkg"}
    assert all(file_sha256(out / n) == h for n, h in files.items())
    assert not list(tmp_path.glob(".out.*")), "no staging directory or lock left behind"
    assert hash_tree(tmp_path / "in") | hash_tree(toy_gpkg.parent) == before


@pytest.mark.slow
def test_second_run_on_locked_out_fails_at_once_and_touches_nothing(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    sites = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    assert _screen(sites, toy_gpkg, out, "--no-map").exit_code == 0
    before = hash_tree(out) | hash_tree(tmp_path / "in")
    with locked(out):  # a first run in progress
        res = _screen(sites, toy_gpkg, out, "--no-map", "--force")
    assert res.exit_code == 2 and "另一个 ecozone 进程正在写入" in res.output and "Traceback" not in res.output
    assert hash_tree(out) | hash_tree(tmp_path / "in") == before


@pytest.mark.slow
def test_two_processes_started_together_only_one_writes(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    sites = _inputs(tmp_path / "in")
    before = hash_tree(tmp_path / "in")
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import sys, time
        from spatial import outset
        real = outset._commit
        def slow(*a, **k):
            time.sleep(3)  # hold the lock while the other run starts
            return real(*a, **k)
        outset._commit = slow
        from spatial.cli import main
        main(["screen", {str(sites)!r}, "-z", {str(toy_gpkg)!r}, "--out", {str(out)!r}, "--no-map"])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = []
    for p in procs:
        _, err = p.communicate(timeout=300)
        results.append((p.returncode, err.decode()))
    codes = sorted(c for c, _ in results)
    assert codes in ([0, 2], [0, 2]), results
    loser = next(err for c, err in results if c == 2)
    assert "另一个 ecozone 进程" in loser or "已有上次的结果" in loser
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert {f["name"] for f in record["files"]} == {"sites.csv", "hits.csv", "rules.csv", "screening.gpkg"}
    assert all(file_sha256(out / f["name"]) == f["sha256"] for f in record["files"]), "one run's files only"
    assert hash_tree(tmp_path / "in") == before


@pytest.mark.parametrize("force", [False, True])
def test_out_equal_to_input_folder_is_refused(tmp_path: Path, toy_gpkg: Path, hash_tree, force: bool) -> None:
    sites = _inputs(tmp_path / "project")
    before = hash_tree(tmp_path / "project")
    res = _screen(sites, toy_gpkg, tmp_path / "project", "--no-map", *(["--force"] if force else []))
    assert res.exit_code == 2 and "会覆盖或删除输入文件" in res.output and "sites.csv" in res.output, res.output
    assert hash_tree(tmp_path / "project") == before


@pytest.mark.slow
def test_hard_link_and_symlink_to_input_folder_are_refused(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    sites = _inputs(tmp_path / "in")
    before = hash_tree(tmp_path / "in")
    (tmp_path / "alias").symlink_to(tmp_path / "in", target_is_directory=True)
    res = _screen(sites, toy_gpkg, tmp_path / "alias", "--no-map", "--force")
    assert res.exit_code == 2 and "会覆盖或删除输入文件" in res.output
    # A previous set holding a hard link to the input: replacing the set would drop it.
    out = tmp_path / "out"
    assert _screen(sites, toy_gpkg, out, "--no-map").exit_code == 0
    os.link(sites, out / "sites_copy.csv")
    res = _screen(out / "sites_copy.csv", toy_gpkg, out, "--no-map", "--force")
    assert res.exit_code == 2 and "会覆盖或删除输入文件" in res.output
    assert hash_tree(tmp_path / "in") == before


def test_out_that_is_a_file_is_refused(tmp_path: Path, toy_gpkg: Path) -> None:
    sites = _inputs(tmp_path / "in")
    (tmp_path / "result").write_text("not a folder")
    res = _screen(sites, toy_gpkg, tmp_path / "result", "--no-map", "--force")
    assert res.exit_code == 2 and "是一个已存在的文件" in res.output
    assert (tmp_path / "result").read_text() == "not a folder"


@pytest.mark.slow
@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_interrupted_force_rerun_leaves_previous_set_exactly(
    tmp_path: Path, toy_gpkg: Path, hash_tree, monkeypatch: pytest.MonkeyPatch, interruption: type[BaseException]
) -> None:
    sites = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    assert _screen(sites, toy_gpkg, out).exit_code == 0  # full set incl. map and report
    before = hash_tree(out) | hash_tree(tmp_path / "in")
    import maps.report

    def boom(*args: object, **kwargs: object) -> None:
        raise interruption("Ctrl-C / failure after sites.csv was written")

    monkeypatch.setattr(maps.report, "write_report", boom)
    res = _screen(sites, toy_gpkg, out, "--force")
    assert res.exit_code != 0
    assert hash_tree(out) | hash_tree(tmp_path / "in") == before, "a mixed set was left"
    assert not list(tmp_path.glob(".out.*"))


@pytest.mark.slow
def test_disk_full_leaves_no_partial_set(tmp_path: Path, toy_gpkg: Path, hash_tree, monkeypatch: pytest.MonkeyPatch) -> None:
    sites = _inputs(tmp_path / "in")
    before = hash_tree(tmp_path / "in")
    import spatial.output as output

    real = output.write_vector_layers

    def full(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "write_vector_layers", full)
    out = tmp_path / "out"
    res = _screen(sites, toy_gpkg, out, "--no-map")
    assert res.exit_code == 2 and "No space left" in res.output and "磁盘空间" in res.output
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    assert hash_tree(tmp_path / "in") == before


@pytest.mark.slow
@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_force_rerun_removes_stale_files_and_keeps_user_files(
    tmp_path: Path, toy_gpkg: Path, monkeypatch: pytest.MonkeyPatch, atomic_exchange: bool
) -> None:
    if not atomic_exchange:
        import spatial.outset as outset

        monkeypatch.setattr(outset, "_exchange", lambda a, b: False)
    sites = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    assert _screen(sites, toy_gpkg, out).exit_code == 0
    assert (out / "map.html").exists() and (out / "report.html").exists()
    (out / "我的笔记.txt").write_text("planner's own notes", encoding="utf-8")
    first = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))["run_id"]
    res = _screen(sites, toy_gpkg, out, "--no-map", "--force")
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert names == {"sites.csv", "hits.csv", "rules.csv", "screening.gpkg", RUN_FILE, "我的笔记.txt"}, names
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert record["run_id"] != first and record["kept_from_before"] == ["我的笔记.txt"]
    assert (out / "我的笔记.txt").read_text(encoding="utf-8") == "planner's own notes"


@pytest.mark.slow
def test_existing_set_without_force_is_refused_untouched(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    sites = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    assert _screen(sites, toy_gpkg, out, "--no-map").exit_code == 0
    before = hash_tree(out)
    res = CliRunner().invoke(cli, ["indicators", "-z", str(toy_gpkg), "--out", str(out)])
    assert res.exit_code == 2 and "--force" in res.output
    assert hash_tree(out) == before


def test_recovery_after_kill_between_renames(tmp_path: Path) -> None:
    # A run killed after moving the old set aside (fallback swap) and before moving the new one in.
    out = tmp_path / "out"
    aside = tmp_path / ".out.old-20260101T000000-deadbeef"
    aside.mkdir()
    (aside / "sites.csv").write_text("old")
    (aside / RUN_FILE).write_text(json.dumps({"files": [{"name": "sites.csv"}]}))
    stale = tmp_path / ".out.staging-20260101T000000-deadbeef"
    stale.mkdir()
    (stale / "sites.csv").write_text("half")
    with pytest.raises(Exception, match="--force"), output_set(out, force=False) as oset:
        (oset.staging / "x.csv").write_text("new")
    assert (out / "sites.csv").read_text() == "old" and not stale.exists() and not aside.exists()


def test_lock_is_exclusive_in_process(tmp_path: Path) -> None:
    with locked(tmp_path / "o"), pytest.raises(OutputLockedError), locked(tmp_path / "o"):
        pass
    with locked(tmp_path / "o"):  # released after use
        pass


@pytest.mark.slow
@pytest.mark.parametrize("command", ["diff", "validate", "indicators"])
def test_other_commands_write_sets(tmp_path: Path, toy_gpkg: Path, hash_tree, command: str) -> None:
    before = hash_tree(toy_gpkg.parent)
    out = tmp_path / "o"
    args = {
        "diff": ["diff", str(toy_gpkg), str(toy_gpkg), "--out", str(out)],
        "validate": ["validate", str(toy_gpkg), "--out", str(out)],
        "indicators": ["indicators", "-z", str(toy_gpkg), "--out", str(out)],
    }[command]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in (0, 1), res.output
    record = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    assert {f["name"] for f in record["files"]} == {p.name for p in out.iterdir()} - {RUN_FILE}
    assert record["command"][1] == command
    assert hash_tree(toy_gpkg.parent) == before


def test_convert_and_map_never_replace_their_input(tmp_path: Path, toy_gpkg: Path, hash_tree) -> None:
    sites = _inputs(tmp_path / "in")
    gj = tmp_path / "in" / "s.geojson"
    gpd.GeoDataFrame({"a": [1]}, geometry=[km_point(1, 1)], crs=4547).to_crs(4326).to_file(gj)
    before = hash_tree(tmp_path / "in")
    res = CliRunner().invoke(cli, ["convert", str(gj), str(gj), "--to", "EPSG:4547", "--force"])
    assert res.exit_code == 2 and "会覆盖或删除输入文件" in res.output
    res = CliRunner().invoke(cli, ["map", "-z", str(toy_gpkg), "--sites", str(sites), "--out", str(sites), "--force"])
    assert res.exit_code == 2 and "会覆盖或删除输入文件" in res.output
    assert hash_tree(tmp_path / "in") == before
