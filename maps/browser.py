"""Drive the system's headless Chromium for map tests and scripts.

Uses Playwright's sync API with Debian's ``/usr/bin/chromium`` (or
``$ECOZONE_CHROMIUM``) instead of a Playwright-downloaded browser, so nothing is
fetched at test time.  :func:`open_page` opens a local HTML file, by default
aborting every http(s) request (basemap tiles) so a test proves the page works
offline, and collects console errors, uncaught page errors and failed requests.

Examples
--------
>>> from maps.browser import browser_unavailable_reason, open_page
>>> if browser_unavailable_reason() is None:                     # doctest: +SKIP
...     with open_page("map.html") as (page, log):
...         assert page.evaluate("typeof L") == "object"
...         assert log.errors == [], log.errors
...         page.screenshot(path="map.png")
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = [
    "CHROMIUM_ARGS",
    "PageLog",
    "browser_unavailable_reason",
    "chromium_path",
    "open_page",
]

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",  # containers/CI run as root without user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no update/metrics pings while offline
    "--disable-component-update",
    "--disable-sync",
)

_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """Find a Chromium executable.

    ``$ECOZONE_CHROMIUM`` wins when set (an empty or wrong value gives ``None`` so
    a misconfiguration is visible as a skip reason rather than silently ignored);
    otherwise ``/usr/bin/chromium`` and a few usual names are tried.

    Returns
    -------
    str or None
        Path to an executable, or ``None`` if none is found.
    """
    env = os.environ.get("ECOZONE_CHROMIUM")
    if env is not None:
        found = shutil.which(env)
        return found if found else None
    for cand in _CANDIDATES:
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_unavailable_reason() -> str | None:
    """Say why browser checks cannot run here, for ``pytest.skip``.

    Returns
    -------
    str or None
        A reason, or ``None`` when Playwright and Chromium are both available.
    """
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python package) is not installed: pip install playwright"
    if chromium_path() is None:
        if os.environ.get("ECOZONE_CHROMIUM") is not None:
            return f"ECOZONE_CHROMIUM={os.environ['ECOZONE_CHROMIUM']!r} is not an executable"
        return "Chromium not found: apt-get install chromium, or set ECOZONE_CHROMIUM"
    return None


@dataclass
class PageLog:
    """What went wrong (or was blocked) while a page was open.

    Attributes
    ----------
    console : list[tuple[str, str, str]]
        Every console message as ``(type, text, source_url)``.
    page_errors : list[str]
        Uncaught exceptions in the page.
    blocked_requests : list[str]
        URLs aborted because the network was blocked (tiles, typically).
    failed_requests : list[str]
        Other failed requests as ``"url (reason)"``.
    """

    console: list[tuple[str, str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        """Console errors, without those caused by a blocked request.

        Returns
        -------
        list[str]
            Message texts (with source URL when known).
        """
        blocked = set(self.blocked_requests)
        out = []
        for kind, text, url in self.console:
            if kind != "error":
                continue
            if url in blocked or "ERR_BLOCKED_BY_CLIENT" in text:
                continue  # "Failed to load resource" for a tile we aborted
            out.append(f"{text} ({url})" if url else text)
        return out

    @property
    def errors(self) -> list[str]:
        """All problems: console errors, page errors and non-blocked failed requests.

        Returns
        -------
        list[str]
            Empty for a healthy page.
        """
        return (
            [f"console: {e}" for e in self.console_errors]
            + [f"pageerror: {e}" for e in self.page_errors]
            + [f"requestfailed: {e}" for e in self.failed_requests]
        )


@contextmanager
def open_page(
    html_path: str | os.PathLike[str],
    *,
    block_network: bool = True,
    allow_url_prefixes: Sequence[str] = (),
    viewport: tuple[int, int] = (1280, 800),
    wait_until: str = "load",
    wait_for: str | None = None,
    timeout_ms: float = 30_000,
    executable_path: str | None = None,
    extra_args: Sequence[str] = (),
    locale: str = "zh-CN",
) -> Iterator[tuple[Page, PageLog]]:
    """Open a local HTML file in headless Chromium.

    Parameters
    ----------
    html_path : path-like
        The file to open (as a ``file://`` URL).
    block_network : bool, default True
        Abort every http(s)/ws(s) request (recorded in ``log.blocked_requests``);
        ``file:``, ``data:`` and ``blob:`` URLs load normally.
    allow_url_prefixes : sequence of str, optional
        URL prefixes let through even when ``block_network`` is True.
    viewport : tuple[int, int], default (1280, 800)
        Width and height in CSS pixels.
    wait_until : str, default "load"
        Playwright ``goto`` wait condition.
    wait_for : str, optional
        A JavaScript expression to wait for after loading (e.g.
        ``"typeof L !== 'undefined'"``).
    timeout_ms : float, default 30000
        Default timeout for navigation and waits.
    executable_path : str, optional
        Chromium to use (default: :func:`chromium_path`).
    extra_args : sequence of str, optional
        Extra Chromium switches appended to :data:`CHROMIUM_ARGS`.
    locale : str, default "zh-CN"
        Browser locale (affects number/date formatting and ``navigator.language``).

    Yields
    ------
    tuple[playwright.sync_api.Page, PageLog]
        The open page and the live log (it keeps filling while the page is used).

    Raises
    ------
    RuntimeError
        If Playwright or Chromium is unavailable (see :func:`browser_unavailable_reason`).
    FileNotFoundError
        If ``html_path`` does not exist.
    """
    reason = browser_unavailable_reason() if executable_path is None else None
    if reason:
        raise RuntimeError(reason)
    from playwright.sync_api import sync_playwright

    path = Path(html_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(path)
    exe = executable_path or chromium_path()
    log = PageLog()
    prefixes = tuple(allow_url_prefixes)

    def blocked(url: str) -> bool:
        remote = url.split(":", 1)[0].lower() in {"http", "https", "ws", "wss"}
        return block_network and remote and not url.startswith(prefixes)

    def on_route(route: Any) -> None:
        url = route.request.url
        if blocked(url):
            log.blocked_requests.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def on_console(msg: Any) -> None:
        loc = msg.location or {}
        log.console.append((msg.type, msg.text, loc.get("url", "")))

    def on_request_failed(req: Any) -> None:
        if req.url in log.blocked_requests:
            return
        if blocked(req.url):
            # the page cancelled it (Leaflet drops pending tiles on zoom, net::ERR_ABORTED)
            # before the route handler aborted it: still a blocked remote request
            log.blocked_requests.append(req.url)
            return
        log.failed_requests.append(f"{req.url} ({req.failure})")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                locale=locale,
                service_workers="block",
            )
            context.set_default_timeout(timeout_ms)
            context.route("**/*", on_route)
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
            page.on("requestfailed", on_request_failed)
            page.goto(path.as_uri(), wait_until=wait_until)  # type: ignore[arg-type]
            if wait_for:
                page.wait_for_function(wait_for)
            yield page, log
        finally:
            browser.close()
