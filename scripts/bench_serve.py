"""Load run for ``ecozone serve``: N concurrent screenings of the demo sites on loopback.

Starts a real server (uvicorn, worker processes as ``ecozone serve`` uses
them) on a free 127.0.0.1 port with a temporary data dir, then N client
threads each upload the 连州 demo sites and poll until their job is done.
Every job's verdicts must equal the engine's (the same call ``ecozone
screen`` makes), or the script exits 1.  Prints p50/p95 latency from submit
to done, the ratio to one warm screening job (the web worker's) run directly in the
same process (the baseline), and how fast a page answers while the pool is busy.  Only loopback traffic; bounded in count and time.

Run from the repository root::

    python scripts/bench_serve.py            # 20 clients, 2 worker processes
    python scripts/bench_serve.py --clients 5 --jobs 1
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

from spatial.job import ScreeningJob
from spatial.serve import ServeSettings, create_app
from spatial.zoning import demo_sites_path, load_zoning


def baseline(tmp: Path) -> tuple[float, dict[str, str]]:
    """Screen the demo sites and write every output directly; return seconds and verdicts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zoning = load_zoning()
        for run in range(2):  # the first run pays for imports and caches, as a warm worker does not
            t0 = time.perf_counter()
            job = ScreeningJob(demo_sites_path(), zoning)
            result = job.screen()
            job.write(result, tmp / f"baseline{run}")
            seconds = time.perf_counter() - t0
    return seconds, dict(zip(result.sites["site_id"].astype(str), result.sites["verdict"], strict=True))


def one_client(base: str, body: bytes, deadline: float) -> tuple[float, dict[str, str], str]:
    """Submit the demo sites, poll until done; return latency, verdicts and status."""
    with httpx.Client(base_url=base, timeout=60) as c:
        t0 = time.perf_counter()
        r = c.post("/api/screenings", files={"files": ("lianzhou_sites.gpkg", body)})
        r.raise_for_status()
        job = r.json()["id"]
        while time.monotonic() < deadline:
            doc = c.get(f"/api/screenings/{job}").json()
            if doc["status"] in ("done", "failed"):
                verdicts = {s["site_id"]: s["verdict"] for s in doc["sites"] or []}
                return time.perf_counter() - t0, verdicts, doc["status"]
            time.sleep(0.1)
    return float("nan"), {}, "timeout"


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if any job is wrong or unfinished."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (ecozone serve --jobs)")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ecozone-bench-serve-") as tmp:
        tmp_path = Path(tmp)
        base_s, expected = baseline(tmp_path)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = create_app(ServeSettings(data_dir=tmp_path / "data", workers=args.jobs))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        body = demo_sites_path().read_bytes()
        # Warm the worker processes (imports, zoning load) so the figures show steady state.
        one_client(base, body, time.monotonic() + args.timeout)
        t0 = time.perf_counter()
        deadline = time.monotonic() + args.timeout
        running = threading.Event()
        running.set()
        page_times: list[float] = []

        def watch() -> None:  # the pages must stay responsive while the pool is busy
            with httpx.Client(base_url=base, timeout=60) as c:
                while running.is_set() and len(page_times) < 2000:
                    t = time.perf_counter()
                    c.get("/history").raise_for_status()
                    page_times.append(time.perf_counter() - t)
                    time.sleep(0.5)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        with ThreadPoolExecutor(args.clients) as ex:
            results = list(ex.map(lambda _: one_client(base, body, deadline), range(args.clients)))
        wall = time.perf_counter() - t0
        running.clear()
        watcher.join(timeout=60)
        server.should_exit = True
        thread.join(timeout=60)
    lat = sorted(r[0] for r in results)
    ok = sum(1 for _, v, st in results if st == "done" and v == expected)
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    print(f"clients {args.clients}, worker processes {args.jobs}, sites per job {len(expected)}")
    print(f"correct: {ok}/{args.clients} (verdicts identical to the engine's)")
    print(f"latency submit→done: p50 {p50:.2f} s, p95 {p95:.2f} s, max {lat[-1]:.2f} s; wall {wall:.2f} s")
    print(f"baseline (one screening + all outputs, in process): {base_s:.2f} s; p50/baseline {p50 / base_s:.1f}x, "
          f"throughput {args.clients / wall:.2f} jobs/s vs {1 / base_s:.2f} jobs/s sequential")
    pages = sorted(page_times)
    print(f"/history during the run: {len(pages)} requests, p50 {statistics.median(pages) * 1000:.0f} ms, max {pages[-1] * 1000:.0f} ms")
    return 0 if ok == args.clients else 1


if __name__ == "__main__":
    sys.exit(main())
