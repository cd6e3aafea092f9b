"""Bad input never crashes, never misleads, never loses data.

Every corpus case runs through the real CLI: either the right verdicts (with
a warning saying what was repaired) or exit 2 with a message naming the file
and the fix — never a traceback — and no input file changes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "data" / "bad"))
from corpus import CASES, Case  # noqa: E402

from spatial.cli import cli  # noqa: E402


@pytest.mark.slow
@pytest.mark.filterwarnings("always::spatial.errors.EcozoneWarning")  # the CLI prints them; we assert on its output
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, hash_tree) -> None:
    src = tmp_path / "in"
    src.mkdir()
    zoning, sites, extra = case.build(src)
    before = hash_tree(src)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["screen", str(sites), "--zoning", str(zoning), "--out", str(out), "--no-map", *extra])
    text = res.output
    assert res.exit_code == case.exit, text + repr(res.exception)
    assert "Traceback" not in text
    if case.exit == 2:
        assert res.exception is None or isinstance(res.exception, SystemExit)
    if case.message:
        assert re.search(case.message, text, flags=re.S), text
    if case.exit == 0:
        table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig", dtype=str)
        assert dict(zip(table.site_id, table.verdict)) == case.verdicts
    else:
        assert not out.exists() or not any(out.iterdir()), "a failed run must not leave outputs behind"
    assert hash_tree(src) == before, "inputs must never be modified"


@pytest.mark.slow
def test_gbk_values_decoded(tmp_path: Path) -> None:
    from corpus import gbk_no_cpg

    from spatial.errors import DataWarning
    from spatial.zoning import load_zoning

    zoning, _, _ = gbk_no_cpg(tmp_path)
    with pytest.warns(DataWarning, match="GBK"):
        z = load_zoning(zoning)
    assert set(z["control_unit"].category) == {"priority", "key", "general"}
    assert z["redline"].name.tolist() == ["红线甲", "红线乙", "红线丙"]
    assert z["corridor"].road_class.tolist()[1] == "expressway"


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    from spatial.io import atomic_output

    target = tmp_path / "sites.csv"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half a file")
        raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_keeps_old_file(tmp_path: Path) -> None:
    from spatial.io import atomic_output

    target = tmp_path / "sites.csv"
    target.write_text("old result")
    with pytest.raises(RuntimeError), atomic_output(target, force=True) as tmp:
        tmp.write_text("new but incomplete")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old result"
    assert list(tmp_path.iterdir()) == [target]
