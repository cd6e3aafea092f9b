"""Self-contained map HTML: inline vendored Leaflet assets, drop unused CDN files.

Folium writes ``<script src="https://cdn...">`` and ``<link rel="stylesheet"
href="https://cdn...">`` tags; offline (intranets, CI) such a page is blank
("L is not defined").  :func:`make_offline` rewrites folium's HTML into ONE file:

* every CDN asset listed in ``maps/vendor/MANIFEST.json`` (Leaflet, jQuery,
  leaflet.fullscreen, leaflet-measure, Leaflet.MousePosition) is replaced by an
  inline ``<script>``/``<style>`` read from ``maps/vendor`` with
  :mod:`importlib.resources`; images referenced by the CSS become ``data:`` URIs,
  and Leaflet's default marker icon is pointed at ``data:`` URIs as well;
* folium defaults that ecozone maps do not need are removed (:data:`STRIPPED`:
  Bootstrap JS/CSS, Glyphicons, Font Awesome, Leaflet.awesome-markers and its
  rotate CSS).  If the page *uses* one of them (e.g. ``folium.Icon``), an
  :class:`OfflineAssetError` is raised instead of shipping a broken map;
* jQuery is inlined only when the page code calls it (``folium.Popup`` does:
  ``$(`<div>...</div>`)[0]``);
* any other external or relative script/stylesheet (a new folium plugin, a new
  folium version asking for another Leaflet) raises :class:`OfflineAssetError`.

Only basemap tile URLs inside the map's JavaScript may still reach the network; a
map built with ``folium.Map(tiles=None)`` needs none.
"""

from __future__ import annotations

import base64
import html as html_lib
import json
import mimetypes
import posixpath
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spatial.errors import OfflineAssetError

if TYPE_CHECKING:
    import os

    from branca.element import Element

__all__ = [
    "BASE_CSS",
    "STRIPPED",
    "OfflineAssetError",
    "StrippedAsset",
    "escape_inline_css",
    "escape_inline_js",
    "find_external_resources",
    "load_manifest",
    "make_offline",
    "offline_html",
    "save_offline",
    "vendored_packages",
    "verify_vendor",
]

_PACKAGE = "maps"
_VENDOR = "vendor"
_MANIFEST = "MANIFEST.json"


@dataclass(frozen=True)
class StrippedAsset:
    """A folium default that ecozone removes instead of vendoring.

    Parameters
    ----------
    name : str
        Short name used in messages.
    url_pattern : str
        Regular expression (``re.search``, case-insensitive) on the CDN URL.
    reason : str
        Why it is not needed.
    usage_pattern : str or None
        Regular expression that finds a *use* of the library in the page; a match
        raises :class:`OfflineAssetError` because the page would break.
    fix : str
        What to do instead (shown in the error).
    """

    name: str
    url_pattern: str
    reason: str
    usage_pattern: str | None = None
    fix: str = ""


# Folium 0.20 puts these on every map (folium.folium._default_js/_default_css).
# ecozone maps use CircleMarker/GeoJson/LayerControl/popups/tooltips/HTML legends,
# none of which touch Bootstrap, Font Awesome or awesome-markers; together they
# would add ~1 MB (Font Awesome webfonts alone ~400 kB) to every HTML file.
_FA_FIX = "改用 CircleMarker / DivIcon 或内联 SVG、Unicode 符号 / use CircleMarker, DivIcon or inline SVG/Unicode"
STRIPPED: tuple[StrippedAsset, ...] = (
    StrippedAsset(
        "bootstrap-js",
        r"/bootstrap(@[\w.]+)?/dist/js/bootstrap(\.bundle)?(\.min)?\.js$",
        "only Bootstrap widgets (modals, dropdowns) need it; folium's Leaflet layers do not",
        r"\bbootstrap\.(?:Modal|Tooltip|Popover|Dropdown|Collapse|Tab|Toast|Offcanvas|Carousel)\b"
        r"|\bdata-bs-toggle\b",
        "不要在地图 HTML 中使用 Bootstrap 组件 / do not use Bootstrap widgets in map HTML",
    ),
    StrippedAsset(
        "bootstrap-css",
        r"/bootstrap(@[\w.]+)?/dist/css/bootstrap(\.min)?\.css$",
        "page reset only; a small base style (body font with CJK fallbacks) replaces it",
    ),
    StrippedAsset(
        "glyphicons",
        r"/bootstrap-glyphicons(\.min)?\.css$",
        "icon font for folium.Icon(prefix='glyphicon') only",
        r"""\bclass\s*=\s*\\?["'][^"'\\]*\bglyphicon-""",
        _FA_FIX,
    ),
    StrippedAsset(
        "font-awesome",
        r"/(@fortawesome/fontawesome-free|font-awesome)(@[\w.]+)?/css/(all|font-awesome)(\.min)?\.css$",
        "icon font for folium.Icon(prefix='fa') only",
        r"""\bclass\s*=\s*\\?["'][^"'\\]*\bfa-[a-z0-9]""",
        _FA_FIX,
    ),
    StrippedAsset(
        "awesome-markers",
        r"/leaflet\.awesome-markers(/|@)[\w./-]*leaflet\.awesome-markers(\.min)?\.(js|css)$",
        "coloured pin icons for folium.Marker(icon=folium.Icon(...)) only",
        r"\bL\.AwesomeMarkers\b",
        _FA_FIX,
    ),
    StrippedAsset(
        "awesome-rotate",
        r"/leaflet\.awesome\.rotate(\.min)?\.css$",
        "rotation helper for awesome-markers icons only",
    ),
)

# Replaces Bootstrap's reboot where it mattered for us: a sans-serif body font
# (legends/titles live outside .leaflet-container, which Leaflet styles itself)
# with CJK fallbacks so Chinese text does not fall back to a serif font.
BASE_CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI','Microsoft YaHei','PingFang SC',"
    "'Hiragino Sans GB','Noto Sans CJK SC','Noto Sans SC','WenQuanYi Micro Hei',"
    "'Helvetica Neue',Arial,sans-serif;line-height:1.5;}"
)

# A call of jQuery in page code: `$(`, `$.`, `jQuery(`; not `${` (template literal).
_JQUERY_USE = re.compile(r"(?<![\w$])(?:\$|jQuery)\s*[(.]")

_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
# Top-level tokens that can load something; script/style bodies are consumed whole
# so markup inside JavaScript strings (popup HTML) is never mistaken for a tag.
_TOKEN = re.compile(
    r"<!--.*?-->"
    r"|<script\b(?P<sattrs>[^>]*)>(?P<sbody>.*?)</script\s*>"
    r"|<style\b(?P<cattrs>[^>]*)>(?P<cbody>.*?)</style\s*>"
    r"|<link\b(?P<lattrs>[^>]*)>"
    r"|<(?:img|iframe|embed|source|audio|video)\b(?P<mattrs>[^>]*)>",
    re.IGNORECASE | re.DOTALL,
)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?['"]?([^'")\s;]+)""", re.IGNORECASE)
_JS_IMPORT = re.compile(r"""\bimport\s*(?:\(\s*|[\w*{}\s,]+\bfrom\s*)['"]((?:https?:)?//[^'"]+)['"]""")


def _is_remote(url: str) -> bool:
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE))


def _is_inline_uri(url: str) -> bool:
    return url.lower().startswith(("data:", "blob:", "about:", "javascript:")) or url.startswith("#")


def _attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        value = next(v for v in m.groups()[1:] if v is not None)
        out[m.group(1).lower()] = html_lib.unescape(value)
    return out


# --------------------------------------------------------------------------- vendor


def _vendor_root() -> Traversable:
    return resources.files(_PACKAGE).joinpath(_VENDOR)


def _vendor_file(rel: str) -> Traversable:
    node = _vendor_root()
    for part in rel.split("/"):
        node = node.joinpath(part)
    return node


@lru_cache(maxsize=1)
def load_manifest() -> dict[str, Any]:
    """Return ``maps/vendor/MANIFEST.json`` (written by ``scripts/vendor_assets.py``).

    Returns
    -------
    dict[str, Any]
        Packages with version, licence, files (sha256) and asset URL patterns.

    Raises
    ------
    OfflineAssetError
        If the manifest is missing (the vendor directory was not shipped).
    """
    try:
        text = _vendor_file(_MANIFEST).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise OfflineAssetError(
            "缺少 maps/vendor/MANIFEST.json，请运行 python scripts/vendor_assets.py。",
            "maps/vendor/MANIFEST.json is missing: run python scripts/vendor_assets.py.",
        ) from exc
    return json.loads(text)


@dataclass(frozen=True)
class _Asset:
    kind: str  # "js" | "css"
    file: str  # relative to maps/vendor
    package: str
    version: str
    licence: str
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def _assets() -> tuple[_Asset, ...]:
    out = []
    for pkg in load_manifest()["packages"]:
        for a in pkg["assets"]:
            out.append(
                _Asset(
                    kind=a["kind"],
                    file=a["file"],
                    package=pkg["package"],
                    version=pkg["version"],
                    licence=pkg["licence"],
                    pattern=re.compile(a["url_pattern"], re.IGNORECASE),
                )
            )
    return tuple(out)


def verify_vendor() -> list[str]:
    """Check the vendored files against the sha256 sums in the manifest.

    Returns
    -------
    list[str]
        Problems (missing file, checksum mismatch, missing licence); empty if fine.
    """
    import hashlib

    problems = []
    for pkg in load_manifest()["packages"]:
        paths = {f["path"] for f in pkg["files"]}
        if pkg["licence_file"] not in paths:
            problems.append(f"{pkg['package']}: licence file not listed")
        for f in pkg["files"]:
            node = _vendor_file(f["path"])
            if not node.is_file():
                problems.append(f"missing: {f['path']}")
            elif hashlib.sha256(node.read_bytes()).hexdigest() != f["sha256"]:
                problems.append(f"sha256 mismatch: {f['path']}")
    return problems


def _data_uri(rel: str) -> str:
    node = _vendor_file(rel)
    if not node.is_file():
        raise OfflineAssetError(
            f"maps/vendor 缺少 {rel}，请重新运行 scripts/vendor_assets.py。",
            f"maps/vendor lacks {rel}: re-run scripts/vendor_assets.py.",
        )
    mime = mimetypes.guess_type(rel)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(node.read_bytes()).decode('ascii')}"


def escape_inline_js(code: str) -> str:
    r"""Make JavaScript safe inside ``<script>...</script>``.

    ``</script`` would end the element early and ``<!--`` can switch the HTML
    tokenizer into its "escaped" script states; ``<\/`` and ``\x3C`` mean the
    same characters in JS strings, template literals and regular expressions.

    Parameters
    ----------
    code : str
        JavaScript source.

    Returns
    -------
    str
        The same program, safe to inline.
    """
    code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
    return code.replace("<!--", "\\x3C!--")


def escape_inline_css(css: str) -> str:
    r"""Make CSS safe inside ``<style>...</style>`` (``\/`` is ``/`` in CSS).

    Parameters
    ----------
    css : str
        A style sheet.

    Returns
    -------
    str
        The same rules, safe to inline.
    """
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _inline_css_urls(css: str, css_rel: str) -> str:
    base = posixpath.dirname(css_rel)

    def repl(m: re.Match[str]) -> str:
        ref = m.group(2).strip()
        if _is_inline_uri(ref):
            return m.group(0)
        if _is_remote(ref):
            raise OfflineAssetError(
                f"{css_rel} 引用了外部资源 {ref}，离线不可用。",
                f"{css_rel} references the external resource {ref}, which fails offline.",
            )
        target = posixpath.normpath(posixpath.join(base, ref.split("?")[0].split("#")[0]))
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(repl, css)


def _leaflet_icon_patch() -> str:
    # Leaflet finds its default marker images via the URL of leaflet.css or a CSS
    # background; inlined, neither gives a usable path, so set data: URIs directly.
    urls = {
        "iconUrl": _data_uri("leaflet/images/marker-icon.png"),
        "iconRetinaUrl": _data_uri("leaflet/images/marker-icon-2x.png"),
        "shadowUrl": _data_uri("leaflet/images/marker-shadow.png"),
    }
    return f"\n;(function(){{var D=L.Icon.Default;D.imagePath='';D.mergeOptions({json.dumps(urls)});}})();\n"


_POST_JS = {"leaflet/leaflet.js": _leaflet_icon_patch}


@cache
def _inline_tag(file: str, kind: str) -> str:
    asset = next(a for a in _assets() if a.file == file and a.kind == kind)
    text = _vendor_file(file).read_text(encoding="utf-8")
    label = f"{asset.package}@{asset.version}/{posixpath.basename(file)}"
    header = f"/* {label} ({asset.licence}; licence text in ecozone maps/vendor/{asset.package}/) */\n"
    if kind == "js":
        post = _POST_JS.get(file)
        body = header + text + (post() if post else "")
        return f'<script data-ecozone-vendor="{label}">\n{escape_inline_js(body)}\n</script>'
    css = _inline_css_urls(text, file)
    return f'<style data-ecozone-vendor="{label}">\n{escape_inline_css(header + css)}\n</style>'


# --------------------------------------------------------------------------- scan


def find_external_resources(html: str) -> list[str]:
    """List everything in ``html`` that a browser would fetch from outside the file.

    Covers ``<script src>``, ``<link href>`` (stylesheets, preloads, icons, ...),
    ``<img>/<iframe>/<embed>/<source>/<audio>/<video> src``, ``@import`` and
    ``url(...)`` in ``<style>`` blocks and static/dynamic ``import`` of remote
    modules in inline scripts.  ``data:`` URIs and fragments are fine; relative
    paths are reported too because they break once the file is moved.  Tile URL
    templates inside JavaScript strings are *not* reported (they are allowed).

    Parameters
    ----------
    html : str
        A complete HTML document.

    Returns
    -------
    list[str]
        ``"<tag> <url>"`` descriptions, in document order.
    """
    found: list[str] = []
    for m in _TOKEN.finditer(html):
        if m.group("sattrs") is not None:
            src = _attrs(m.group("sattrs")).get("src")
            if src is not None and not _is_inline_uri(src):
                found.append(f"script {src}")
            found += [f"script-import {u}" for u in _JS_IMPORT.findall(m.group("sbody"))]
        elif m.group("cattrs") is not None:
            body = m.group("cbody")
            refs = [u for _, u in _CSS_URL.findall(body)] + _CSS_IMPORT.findall(body)
            found += [f"style {u}" for u in refs if not _is_inline_uri(u.strip())]
        elif m.group("lattrs") is not None:
            attrs = _attrs(m.group("lattrs"))
            href = attrs.get("href")
            if href is not None and not _is_inline_uri(href):
                found.append(f"link[rel={attrs.get('rel', '')}] {href}")
        elif m.group("mattrs") is not None:
            src = _attrs(m.group("mattrs")).get("src")
            if src is not None and not _is_inline_uri(src):
                found.append(f"{m.group(0)[1:].split()[0].lower()} {src}")
    return found


def make_offline(html: str) -> str:
    """Turn folium's HTML into one self-contained file.

    Parameters
    ----------
    html : str
        A document rendered by folium (``m.get_root().render()``).

    Returns
    -------
    str
        The same document with known CDN assets inlined, unused folium defaults
        removed and a small base stylesheet added in place of Bootstrap's.

    Raises
    ------
    OfflineAssetError
        If a script/stylesheet is neither vendored nor safely removable (for example
        a folium plugin or folium version that loads a new CDN file), if the page
        uses a removed library (``folium.Icon`` needs awesome-markers), or if any
        external resource would remain.
    """
    token = f"@@ECOZONE-ASSET-{uuid.uuid4().hex}"
    placeholders: dict[str, _Asset] = {}
    removed: list[StrippedAsset] = []
    unknown: list[str] = []
    seen: set[tuple[str, str]] = set()
    base_css_done = False

    def classify(url: str, kind: str) -> _Asset | StrippedAsset | None:
        if _is_remote(url):
            url_n = "https:" + url if url.startswith("//") else url
            for a in _assets():
                if a.kind == kind and a.pattern.search(url_n.split("?")[0]):
                    return a
            for s in STRIPPED:
                if re.search(s.url_pattern, url_n.split("?")[0], re.IGNORECASE):
                    return s
        return None

    def repl(m: re.Match[str]) -> str:
        nonlocal base_css_done
        if m.group("sattrs") is not None:
            kind, url = "js", _attrs(m.group("sattrs")).get("src")
        elif m.group("lattrs") is not None:
            attrs = _attrs(m.group("lattrs"))
            if "stylesheet" not in attrs.get("rel", "").lower().split():
                return m.group(0)  # other <link>s are judged by the final scan
            kind, url = "css", attrs.get("href")
        else:
            return m.group(0)
        if url is None or _is_inline_uri(url):
            return m.group(0)
        hit = classify(url, kind)
        if hit is None:
            unknown.append(url)
            return m.group(0)
        if isinstance(hit, StrippedAsset):
            removed.append(hit)
            if hit.name == "bootstrap-css" and not base_css_done:
                base_css_done = True
                return f'<style data-ecozone="base">{BASE_CSS}</style>'
            return f"<!-- ecozone offline: removed {hit.name} ({hit.reason}) -->"
        if (hit.file, hit.kind) in seen:
            return ""  # folium de-duplicates by name only; never inline twice
        seen.add((hit.file, hit.kind))
        key = f"{token}-{len(placeholders)}@@"
        placeholders[key] = hit
        return key

    page = _TOKEN.sub(repl, html)

    if unknown:
        listing = "\n  ".join(unknown)
        raise OfflineAssetError(
            f"地图引用了未内置(vendor)的外部脚本/样式，离线无法显示：\n  {listing}\n"
            "请在 scripts/vendor_assets.py 的 SPEC 中加入对应 npm 包并重新运行，"
            "或不使用该插件。",
            f"The map loads external scripts/stylesheets that are not vendored and would "
            f"fail offline:\n  {listing}\nAdd the npm package to SPEC in "
            "scripts/vendor_assets.py and re-run it, or drop the plugin.",
        )
    for s in STRIPPED:
        if s.usage_pattern and re.search(s.usage_pattern, page):
            raise OfflineAssetError(
                f"地图使用了未内置的 {s.name}（{s.reason}）。{s.fix}",
                f"The map uses {s.name}, which ecozone does not ship offline ({s.reason}). {s.fix.split(' / ')[-1]}",
            )

    needs_jquery = bool(_JQUERY_USE.search(page))

    def fill(m: re.Match[str]) -> str:
        asset = placeholders[m.group(0)]
        if asset.package == "jquery" and not needs_jquery:
            return "<!-- ecozone offline: removed jquery (no $ calls in this map) -->"
        return _inline_tag(asset.file, asset.kind)

    out = re.sub(re.escape(token) + r"-\d+@@", fill, page)

    remaining = find_external_resources(out)
    if remaining:
        listing = "\n  ".join(remaining)
        raise OfflineAssetError(
            f"离线 HTML 中仍有外部资源：\n  {listing}\n请改为内联（data: URI）或删除。",
            f"External resources remain in the offline HTML:\n  {listing}\nInline them (data: URIs) or remove them.",
        )
    return out


def offline_html(m: Element) -> str:
    """Render a folium map (or any branca element) to self-contained HTML.

    Parameters
    ----------
    m : branca.element.Element
        Usually a :class:`folium.Map`; its root figure is rendered.

    Returns
    -------
    str
        The HTML document from :func:`make_offline`.
    """
    return make_offline(m.get_root().render())


def save_offline(m: Element | str, path: str | os.PathLike[str], *, force: bool = False, data: Mapping[str, str] | None = None) -> Path:
    """Write a self-contained HTML map atomically (UTF-8).

    Parameters
    ----------
    m : branca.element.Element or str
        A folium map, or HTML already produced by folium or :func:`make_offline`.
    path : path-like
        Output ``.html`` path.
    force : bool, default False
        Replace an existing file.
    data : mapping of str to str, optional
        Placeholder -> JavaScript text put in after the page is made
        offline and scanned: large data literals the caller generated and
        escaped itself (JSON with ``<`` escaped cannot load anything), so a
        30 MB sites layer is not run through the asset scan.  Each
        placeholder must stand once in the page as a JavaScript expression.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is False.
    OfflineAssetError
        See :func:`make_offline`.
    """
    from spatial.io import atomic_output  # geopandas import only when writing

    text = make_offline(m) if isinstance(m, str) else offline_html(m)
    for token, js in (data or {}).items():
        if text.count(token) != 1:
            raise ValueError(f"placeholder {token!r} must stand once in the page")
        text = text.replace(token, js, 1)
    path = Path(path)
    with atomic_output(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def vendored_packages() -> Iterable[tuple[str, str, str]]:
    """Yield ``(package, version, licence)`` of the vendored npm packages.

    Returns
    -------
    Iterable[tuple[str, str, str]]
        One tuple per package in the manifest (useful for report footers).
    """
    return [(p["package"], p["version"], p["licence"]) for p in load_manifest()["packages"]]
