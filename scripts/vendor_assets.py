"""(Re)create ``maps/vendor`` from npm tarballs so ecozone maps work offline.

Folium's HTML loads Leaflet and plugin JS/CSS from CDNs.  ecozone inlines them
instead (:mod:`maps.offline`), from files vendored here.  For every package in
:data:`SPEC` this script runs ``npm pack <package>@<version>`` in a temporary
directory (the registry client checks the tarball's integrity), copies only the
listed dist files plus the licence into ``maps/vendor/<package>/`` and writes
``maps/vendor/MANIFEST.json`` with version, licence, tarball integrity, the
sha256 of every file and the CDN URL patterns each asset replaces.

Run from the repository root::

    python scripts/vendor_assets.py          # rebuild maps/vendor
    python scripts/vendor_assets.py --check  # verify files against MANIFEST.json

Bumping a version: edit :data:`SPEC`, re-run, run ``tests/test_offline.py``
(including the browser test) and commit ``maps/vendor`` together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENDOR_DIR = ROOT / "maps" / "vendor"
MANIFEST_NAME = "MANIFEST.json"
SIZE_BUDGET = 1_000_000  # bytes of the inlined (not served) files; they are committed and inlined


@dataclass(frozen=True)
class Asset:
    """A JS or CSS file that replaces a CDN ``<script>``/``<link>`` in folium HTML.

    Parameters
    ----------
    kind : str
        ``"js"`` or ``"css"``.
    file : str
        Path relative to the package's vendor directory.
    url_pattern : str
        Regular expression (``re.search``, case-insensitive) matching the CDN URLs
        that this file replaces.  Keep it version-pinned to the compatible range so a
        folium upgrade to an incompatible version is *not* matched and
        :func:`maps.offline.make_offline` raises instead of inlining a wrong version.
    """

    kind: str
    file: str
    url_pattern: str


@dataclass(frozen=True)
class Package:
    """One npm package to vendor.

    Parameters
    ----------
    name : str
        npm package name (also the vendor sub-directory).
    version : str
        Exact version passed to ``npm pack``.
    licence : str
        SPDX identifier (checked against ``package.json``).
    licence_file : str
        Licence file inside the tarball (relative to ``package/``).
    files : dict[str, str]
        Destination (relative to the vendor sub-directory) -> source in the tarball
        (relative to ``package/``).
    assets : tuple[Asset, ...]
        The JS/CSS entry points and the CDN URLs they replace.
    why : str
        Which folium feature loads it.
    licence_text : str
        Licence text to write as ``licence_file`` when the tarball ships none
        (the MANIFEST then names its source instead of a tarball path).
    served : bool
        Served as files by ``ecozone serve`` rather than inlined into map HTML;
        counted in ``served_bytes``, outside the inlining budget.
    """

    name: str
    version: str
    licence: str
    licence_file: str
    files: dict[str, str]
    assets: tuple[Asset, ...] = field(default_factory=tuple)
    why: str = ""
    licence_text: str = ""
    served: bool = False


#: The SPDX "MIT" licence template, for a tarball whose package.json says MIT but ships no text.
MIT_TEMPLATE = """MIT License

Copyright {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


# Versions: match the CDN URLs folium 0.20 writes (folium/folium.py `_default_js`,
# plugins/fullscreen.py, measure_control.py, mouse_position.py), taking the latest
# patch release of the same minor version where one exists.
SPEC: tuple[Package, ...] = (
    Package(
        name="leaflet",
        version="1.9.4",  # folium asks for 1.9.3; 1.9.4 is the bug-fix release
        licence="BSD-2-Clause",
        licence_file="LICENSE",
        files={
            "leaflet.js": "dist/leaflet.js",
            "leaflet.css": "dist/leaflet.css",
            "images/layers.png": "dist/images/layers.png",
            "images/layers-2x.png": "dist/images/layers-2x.png",
            "images/marker-icon.png": "dist/images/marker-icon.png",
            "images/marker-icon-2x.png": "dist/images/marker-icon-2x.png",
            "images/marker-shadow.png": "dist/images/marker-shadow.png",
        },
        assets=(
            Asset("js", "leaflet.js", r"/leaflet@1\.9\.\d+/dist/leaflet(-src)?\.js$"),
            Asset("css", "leaflet.css", r"/leaflet@1\.9\.\d+/dist/leaflet\.css$"),
        ),
        why="folium.Map default (Leaflet itself)",
    ),
    Package(
        name="jquery",
        version="3.7.1",
        licence="MIT",
        licence_file="LICENSE.txt",
        files={"jquery.min.js": "dist/jquery.min.js"},
        assets=(Asset("js", "jquery.min.js", r"/jquery-3\.7\.\d+(\.min)?\.js$"),),
        why="folium.Popup parses its HTML with $(`...`)[0]; inlined only when used",
    ),
    Package(
        name="leaflet.fullscreen",
        version="3.0.2",  # folium asks for 3.0.0 (.min.js is a jsDelivr build)
        licence="MIT",
        licence_file="LICENSE",
        files={
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "icon-fullscreen.svg": "icon-fullscreen.svg",
        },
        assets=(
            Asset(
                "js",
                "Control.FullScreen.js",
                r"/leaflet\.fullscreen@3\.0\.\d+/Control\.FullScreen(\.min)?\.js$",
            ),
            Asset(
                "css",
                "Control.FullScreen.css",
                r"/leaflet\.fullscreen@3\.0\.\d+/Control\.FullScreen(\.min)?\.css$",
            ),
        ),
        why="folium.plugins.Fullscreen",
    ),
    Package(
        name="leaflet-measure",
        version="2.1.7",  # same as folium's gh/ljagis/leaflet-measure@2.1.7
        licence="MIT",
        licence_file="LICENSE",
        files={
            "leaflet-measure.min.js": "dist/leaflet-measure.min.js",
            "leaflet-measure.css": "dist/leaflet-measure.css",
            **{
                f"images/{n}": f"dist/images/{n}"
                for stem in ("rulers", "start", "cancel", "check", "focus", "trash")
                for n in (f"{stem}.png", f"{stem}_@2X.png")
            },
        },
        assets=(
            Asset(
                "js",
                "leaflet-measure.min.js",
                r"/leaflet-measure@2\.1\.\d+/dist/leaflet-measure(\.min)?\.js$",
            ),
            Asset(
                "css",
                "leaflet-measure.css",
                r"/leaflet-measure@2\.1\.\d+/dist/leaflet-measure(\.min)?\.css$",
            ),
        ),
        why="folium.plugins.MeasureControl",
    ),
    Package(
        name="leaflet-mouse-position",
        version="1.2.0",  # npm wrapper of ardhi/Leaflet.MousePosition (folium: gh master)
        licence="MIT",
        licence_file="MIT-LICENCE.txt",
        files={
            "L.Control.MousePosition.js": "src/L.Control.MousePosition.js",
            "L.Control.MousePosition.css": "src/L.Control.MousePosition.css",
        },
        assets=(
            Asset(
                "js",
                "L.Control.MousePosition.js",
                r"/Leaflet\.MousePosition(@[\w.]+)?/src/L\.Control\.MousePosition(\.min)?\.js$",
            ),
            Asset(
                "css",
                "L.Control.MousePosition.css",
                r"/Leaflet\.MousePosition(@[\w.]+)?/src/L\.Control\.MousePosition(\.min)?\.css$",
            ),
        ),
        why="folium.plugins.MousePosition (optional)",
    ),
    Package(
        name="leaflet-draw",
        version="1.0.4",
        licence="MIT",
        licence_file="LICENSE",
        licence_text=MIT_TEMPLATE.format(holder="(c) 2012-2017, Jacob Toye, Jon West, Smartrak, Leaflet"),
        files={
            "leaflet.draw.js": "dist/leaflet.draw.js",
            "leaflet.draw.css": "dist/leaflet.draw.css",
            "images/spritesheet.png": "dist/images/spritesheet.png",
            "images/spritesheet-2x.png": "dist/images/spritesheet-2x.png",
            "images/spritesheet.svg": "dist/images/spritesheet.svg",
        },
        why="ecozone serve: draw a point, line or polygon to screen (新建筛查)",
        served=True,
    ),
    Package(
        name="swagger-ui-dist",
        version="5.35.0",
        licence="Apache-2.0",
        licence_file="LICENSE",
        files={
            "NOTICE": "NOTICE",
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
            "swagger-ui.css": "swagger-ui.css",
        },
        why="ecozone serve: the OpenAPI docs at /docs, offline",
        served=True,
    ),
)

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``.

    Parameters
    ----------
    data : bytes
        Content to hash.

    Returns
    -------
    str
        Lower-case hex digest.
    """
    return hashlib.sha256(data).hexdigest()


def npm_pack(spec: str, workdir: Path) -> tuple[Path, str]:
    """Download ``spec`` (``name@version``) with ``npm pack`` into ``workdir``.

    Parameters
    ----------
    spec : str
        npm package spec, e.g. ``"leaflet@1.9.4"``.
    workdir : Path
        Directory the tarball is written to (npm runs there, too).

    Returns
    -------
    tuple[Path, str]
        The tarball path and its npm integrity string (``sha512-...``).

    Raises
    ------
    RuntimeError
        If npm is missing or ``npm pack`` fails.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm 未找到，请先安装 Node.js。 / npm not found: install Node.js first.")
    proc = subprocess.run(
        [npm, "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"npm pack {spec} 失败 / failed:\n{proc.stderr.strip()}")
    info = json.loads(proc.stdout)[0]
    return workdir / info["filename"], info["integrity"]


def css_relative_urls(css: str) -> list[str]:
    """List the relative ``url(...)`` references of a stylesheet.

    Parameters
    ----------
    css : str
        Stylesheet text.

    Returns
    -------
    list[str]
        References that are neither ``data:`` URIs nor fragments (``#...``).
    """
    return [
        ref
        for _, ref in _CSS_URL.findall(css)
        if not ref.startswith(("data:", "#"))
    ]


def vendor_package(pkg: Package, workdir: Path, dest_root: Path) -> dict[str, Any]:
    """Fetch one package and copy its needed files into ``dest_root/<name>``.

    Parameters
    ----------
    pkg : Package
        What to fetch and copy.
    workdir : Path
        Temporary directory for the tarball.
    dest_root : Path
        The vendor directory (``maps/vendor``).

    Returns
    -------
    dict[str, Any]
        The package's MANIFEST entry.

    Raises
    ------
    RuntimeError
        If the tarball lacks a file, its licence differs from :data:`SPEC`, or a
        stylesheet references a file that is not vendored.
    """
    tarball, integrity = npm_pack(f"{pkg.name}@{pkg.version}", workdir)
    dest = dest_root / pkg.name
    dest.mkdir(parents=True)
    files: list[dict[str, Any]] = []
    with tarfile.open(tarball) as tar:
        # Read members explicitly (no extractall): nothing outside the list is written.
        def read(member: str) -> bytes:
            fh = tar.extractfile(f"package/{member}")
            if fh is None:
                raise RuntimeError(f"{pkg.name}@{pkg.version}: package/{member} is not a file")
            return fh.read()

        meta = json.loads(read("package.json"))
        if meta.get("version") != pkg.version or meta.get("license") != pkg.licence:
            raise RuntimeError(
                f"{pkg.name}: tarball says version={meta.get('version')!r} "
                f"license={meta.get('license')!r}; SPEC says {pkg.version!r} {pkg.licence!r}"
            )
        def store(rel: str, data: bytes, source: str) -> None:
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            files.append({"path": f"{pkg.name}/{rel}", "source": source, "bytes": len(data), "sha256": sha256_bytes(data)})

        wanted = {**pkg.files} if pkg.licence_text else {**pkg.files, pkg.licence_file: pkg.licence_file}
        if pkg.licence_text:  # the tarball has no licence file: write the declared licence's text
            store(pkg.licence_file, pkg.licence_text.encode("utf-8"), f"SPDX {pkg.licence} template; copyright from the dist header (tarball ships no licence file)")
        for rel, src in wanted.items():
            store(rel, read(src), f"package/{src}")
    for asset in pkg.assets:
        if asset.kind == "css":
            css_path = dest / asset.file
            for ref in css_relative_urls(css_path.read_text(encoding="utf-8")):
                if ref.startswith(("http:", "https:", "//")):
                    raise RuntimeError(f"{css_path}: external url({ref}) cannot work offline")
                if not (css_path.parent / ref).is_file():
                    raise RuntimeError(f"{css_path}: url({ref}) is not vendored; add it to SPEC")
    return {
        "package": pkg.name,
        "version": pkg.version,
        "licence": pkg.licence,
        "licence_file": f"{pkg.name}/{pkg.licence_file}",
        "npm_integrity": integrity,
        "why": pkg.why,
        "served": pkg.served,
        "files": sorted(files, key=lambda f: f["path"]),
        "assets": [
            {"kind": a.kind, "file": f"{pkg.name}/{a.file}", "url_pattern": a.url_pattern}
            for a in pkg.assets
        ],
    }


def build(vendor_dir: Path = VENDOR_DIR) -> dict[str, Any]:
    """Rebuild ``vendor_dir`` from npm and write its ``MANIFEST.json``.

    The new tree is assembled in a temporary directory and swapped in at the end,
    so a failed download leaves the committed files untouched.

    Parameters
    ----------
    vendor_dir : Path
        Target directory (normally ``maps/vendor``).

    Returns
    -------
    dict[str, Any]
        The manifest that was written.
    """
    with tempfile.TemporaryDirectory(prefix="ecozone-vendor-") as tmp:
        tmp_path = Path(tmp)
        staging = tmp_path / "vendor"
        staging.mkdir()
        packages = []
        for pkg in SPEC:
            work = tmp_path / f"npm-{pkg.name}"
            work.mkdir()
            packages.append(vendor_package(pkg, work, staging))
            print(f"vendored {pkg.name}@{pkg.version} ({pkg.licence})")
        total = sum(f["bytes"] for p in packages if not p["served"] for f in p["files"])
        served = sum(f["bytes"] for p in packages if p["served"] for f in p["files"])
        manifest = {
            "schema": 1,
            "generated_by": "scripts/vendor_assets.py",
            "note": "Files copied unmodified from the npm tarballs; "
            "maps/offline.py inlines them (CSS images as data: URIs at render time); "
            "packages marked served are served as files by ecozone serve (total_bytes counts the inlined ones).",
            "total_bytes": total,
            "served_bytes": served,
            "packages": packages,
        }
        (staging / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if total > SIZE_BUDGET:
            print(f"warning: vendored total {total} B exceeds {SIZE_BUDGET} B", file=sys.stderr)
        if vendor_dir.exists():
            shutil.rmtree(vendor_dir)
        shutil.copytree(staging, vendor_dir)
    print(f"wrote {vendor_dir / MANIFEST_NAME}: {total} bytes in {len(packages)} packages")
    return manifest


def check(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Verify the vendored files against ``MANIFEST.json`` (no network).

    Parameters
    ----------
    vendor_dir : Path
        The vendor directory.

    Returns
    -------
    list[str]
        Problems found (empty when everything matches).
    """
    manifest = json.loads((vendor_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    problems = []
    listed = set()
    for pkg in manifest["packages"]:
        for f in pkg["files"]:
            listed.add(f["path"])
            path = vendor_dir / f["path"]
            if not path.is_file():
                problems.append(f"missing: {f['path']}")
            elif sha256_bytes(path.read_bytes()) != f["sha256"]:
                problems.append(f"sha256 mismatch: {f['path']}")
    for path in vendor_dir.rglob("*"):
        rel = path.relative_to(vendor_dir).as_posix()
        if path.is_file() and rel != MANIFEST_NAME and rel not in listed:
            problems.append(f"not in manifest: {rel}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : list[str], optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify files, no download")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help="vendor directory")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.dest)
        for p in problems:
            print(p, file=sys.stderr)
        print("OK" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    build(args.dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
