"""``report.pdf`` from ``report.html`` through a locally installed headless Chromium.

Chromium (or Chrome/Edge) prints the HTML exactly as the browser shows it,
with the CSS page rules (A4, page numbers in the margin boxes).  Nothing is
downloaded: when no browser is installed, :func:`html_to_pdf` returns None and
the caller says how to get one.  A run never fails for lack of it.

:func:`start_printer` launches the browser ahead of time (a report starts it
before drawing its 附图, so the browser's start-up is off the critical path)
and :meth:`PdfPrinter.print` prints over the DevTools pipe
(``--remote-debugging-pipe``, ``Page.printToPDF`` with the settings of
``--print-to-pdf``: CSS page size, backgrounds, no header/footer, tagged):
the same pages as the command-line print.  Whatever goes wrong there, the
caller falls back to the command-line print.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from maps.browser import CHROMIUM_ARGS, chromium_path

__all__ = ["html_to_pdf", "start_printer", "PdfPrinter", "PRINT_PARAMS", "PDF_HINT_ZH", "PDF_HINT_EN", "CHROMIUM_ENV"]

#: Environment variable naming the browser executable.
CHROMIUM_ENV = "ECOZONE_CHROMIUM"
PDF_HINT_ZH = (
    "未找到 Chromium/Chrome，未生成 report.pdf：可安装 Chromium（Debian/Ubuntu：apt install chromium），"
    f"或设置环境变量 {CHROMIUM_ENV} 指向浏览器程序；也可在 Word/WPS 中打开 report.docx 另存为 PDF。"
)
PDF_HINT_EN = (
    f"no Chromium/Chrome found, report.pdf skipped: install chromium or set {CHROMIUM_ENV}; "
    "or open report.docx in Word/WPS and save as PDF"
)


#: ``Page.printToPDF`` settings that give the pages ``--print-to-pdf --no-pdf-header-footer`` gives.
PRINT_PARAMS: dict[str, Any] = {
    "printBackground": True,
    "preferCSSPageSize": True,
    "displayHeaderFooter": False,
    "generateTaggedPDF": True,
    "transferMode": "ReturnAsBase64",
}


class PdfPrinter:
    """A headless Chromium started ahead of time, printing HTML files to PDF over the DevTools pipe.

    Parameters
    ----------
    exe : str
        The browser executable.
    """

    def __init__(self, exe: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="ecozone-chromium-")
        self._buf = b""
        self._n = 0
        cmd_r, self._cmd_w = (_high(fd) for fd in os.pipe())  # commands: this process -> the browser's fd 3
        self._ev_r, ev_w = (_high(fd) for fd in os.pipe())  # replies and events: the browser's fd 4 -> here
        try:
            self._proc = subprocess.Popen(
                ["bash", "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{ev_w} {cmd_r}<&- {ev_w}>&-', exe, *CHROMIUM_ARGS,
                 "--remote-debugging-pipe", f"--user-data-dir={self._profile}", "about:blank"],
                pass_fds=(cmd_r, ev_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            for fd in (cmd_r, ev_w, self._cmd_w, self._ev_r):
                os.close(fd)
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        os.close(cmd_r)
        os.close(ev_w)
        self._closed = False

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self._n += 1
        msg: dict[str, Any] = {"id": self._n, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._cmd_w, data) :]
        return self._n

    def _recv(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._ev_r], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._ev_r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def _call(self, method: str, params: dict[str, Any] | None, session: str | None, deadline: float) -> dict[str, Any]:
        i = self._send(method, params, session)
        while True:
            m = self._recv(deadline)
            if m.get("id") == i:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})

    def print(self, html: Path, pdf: Path, *, timeout: float = 180.0) -> Path | None:
        """Print ``html`` to ``pdf`` (the caller makes it atomic); None when the browser could not.

        Parameters
        ----------
        html : Path
            A self-contained HTML file.
        pdf : Path
            Where to write the PDF.
        timeout : float, default 180
            Seconds before the browser is given up on.

        Returns
        -------
        Path or None
            ``pdf`` when written.
        """
        if self._closed or self._proc.poll() is not None:
            return None
        deadline = time.monotonic() + timeout
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"}, None, deadline)["targetId"]
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True}, None, deadline)["sessionId"]
            self._call("Page.enable", None, session, deadline)
            nav = self._call("Page.navigate", {"url": Path(html).resolve().as_uri()}, session, deadline)
            if nav.get("errorText"):
                return None
            while not (m := self._recv(deadline)).get("method") == "Page.loadEventFired" or m.get("sessionId") != session:
                pass
            data = self._call("Page.printToPDF", PRINT_PARAMS, session, deadline)["data"]
        except (OSError, EOFError, TimeoutError, RuntimeError, KeyError, ValueError):
            return None
        Path(pdf).write_bytes(base64.b64decode(data))
        return pdf if Path(pdf).stat().st_size > 0 else None

    def close(self) -> None:
        """Close the browser (asked first, then killed) and remove its profile."""
        if self._closed:
            return
        self._closed = True  # the descriptors below are released: never written to again
        try:
            self._send("Browser.close")
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        finally:
            for fd in (self._cmd_w, self._ev_r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)


def _high(fd: int) -> int:
    """Move a pipe end to a descriptor above 9, close-on-exec (the shell maps it to the browser's 3 or 4)."""
    out = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return out


def start_printer() -> PdfPrinter | None:
    """Launch the browser now, for a PDF printed later; None when there is none (or it cannot start here).

    Returns
    -------
    PdfPrinter or None
        The running browser; close it with :meth:`PdfPrinter.close`.
    """
    exe = chromium_path()
    if exe is None or shutil.which("bash") is None:
        return None
    try:
        return PdfPrinter(exe)
    except OSError:
        return None


def html_to_pdf(html: Path, pdf: Path, *, timeout: float = 180.0, printer: PdfPrinter | None = None) -> Path | None:
    """Print ``html`` to ``pdf`` with headless Chromium.

    Parameters
    ----------
    html : Path
        A self-contained HTML file.
    pdf : Path
        Where to write the PDF (the caller makes it atomic).
    timeout : float, default 180
        Seconds before the browser is given up on.
    printer : PdfPrinter, optional
        A browser started ahead of time (:func:`start_printer`); when it fails, the command-line print is tried.

    Returns
    -------
    Path or None
        ``pdf`` when written; None when no browser is installed (see
        :func:`maps.browser.chromium_path`) or it failed.
    """
    if printer is not None and printer.print(html, pdf, timeout=timeout) is not None:
        return pdf
    exe = chromium_path()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ecozone-chromium-") as profile:
        # No header/footer from Chromium: it would print the file's local path; the page numbers come from the CSS.
        # The PDF keeps Chromium's structure tags (screen readers; ≈1 s of the browser's CPU for the demo report).
        cmd = [
            exe,
            *CHROMIUM_ARGS,
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            Path(html).resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return pdf if pdf.exists() and pdf.stat().st_size > 0 else None
