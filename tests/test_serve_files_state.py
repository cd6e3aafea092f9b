"""A web job is done when its verdicts exist; its files' state (生成中 / 可下载 / 生成失败) is shown on its own."""

from __future__ import annotations

import json

import pytest
import shapely
from fastapi.testclient import TestClient
from serve_helpers import make_app, redline_patch, to_lonlat, wait_job

from spatial.serve.products import files_progress, files_state, mark_failed, mark_pending, mark_progress, mark_ready


@pytest.mark.slow
def test_files_state_follows_the_verdicts(tmp_path, monkeypatch) -> None:
    """Done job: verdicts listed whatever the files' state; pending lists no file, failed says why, ready lists the set."""
    from spatial.serve import worker

    stages: list[str] = []
    real = worker.mark_progress
    monkeypatch.setattr(worker, "mark_progress", lambda folder, stage, f: (stages.append(stage), real(folder, stage, f)))
    app = make_app(tmp_path)
    with TestClient(app) as client:
        poly, _ = redline_patch()
        drawn = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": shapely.geometry.mapping(to_lonlat(poly)), "properties": {"name": "甲"}}]}
        r = client.post("/api/screenings", data={"drawn": json.dumps(drawn), "project_type": "工业"})
        doc = wait_job(client, r.json()["id"])
        assert doc["status"] == "done" and doc["files_status"] == "ready" and doc["files_status_zh"] == "可下载"
        assert list(dict.fromkeys(stages)) == ["draw", "report"]  # the worker reported the writer's stages
        assert {"report.html", "sites.csv"} <= {f["name"] for f in doc["files"]} and {f["state"] for f in doc["files"]} == {"可下载"}
        page = client.get(f"/screenings/{doc['id']}/sites/{doc['sites'][0]['site_id']}").text
        assert "<td>生态保护红线</td>" in page and "<td>redline</td>" not in page  # layer names in Chinese
        assert "空间布局约束" in page and any(c in page for c in ("优先保护单元", "重点管控单元", "一般管控单元"))  # the unit's list text and category
        assert not any(f"<td>{c}</td>" in page for c in ("priority", "key", "general"))
        folder = tmp_path / "jobs" / doc["id"]
        url = f"/api/screenings/{doc['id']}"
        mark_pending(folder)
        pending = client.get(url).json()
        assert pending["status"] == "done" and pending["files_status_zh"] == "生成中" and pending["files"] == []
        assert pending["sites"][0]["verdict"] == "prohibited"  # the verdicts do not wait for the files
        assert client.get(f"{url}/files/sites.csv").status_code == 404
        assert "生成中" in client.get(f"/screenings/{doc['id']}").text
        assert pending["files_stage"] is None and 'id="files-progress"' in client.get(f"/screenings/{doc['id']}").text
        mark_progress(folder, "draw", 0.4)  # the writer's stage, as the job's on_stage reports it
        drawing = client.get(url).json()
        assert (drawing["files_stage"], drawing["files_stage_zh"], drawing["files_progress"]) == ("draw", "出图", 40.0)
        page = client.get(f"/screenings/{doc['id']}").text
        assert '<span id="files-stage">出图</span>' in page and 'value="40.0"' in page
        mark_failed(folder, "内存不足\nout of memory")
        failed = client.get(url).json()
        assert failed["files_status"] == "failed" and "内存不足" in failed["files_error"]
        mark_ready(folder)
        assert client.get(url).json()["files_status"] == "failed"  # failure stays until a new pending run
        mark_pending(folder)
        mark_ready(folder)
        assert client.get(url).json()["files_status"] == "ready"


def test_files_progress_marker(tmp_path) -> None:
    """The pending marker carries the writer's stage; it never brings back a finished set's marker."""
    mark_pending(tmp_path)
    assert files_state(tmp_path) == "pending" and files_progress(tmp_path) is None
    mark_progress(tmp_path, "report", 0.25)
    assert files_progress(tmp_path) == ("report", 0.25) and files_state(tmp_path) == "pending"
    mark_ready(tmp_path)
    mark_progress(tmp_path, "report", 1.0)  # a late report after the set is in place
    assert files_state(tmp_path) == "ready" and files_progress(tmp_path) is None
