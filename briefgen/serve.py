"""A local preview: serve output/ on 127.0.0.1, rebuild like `watch`, reload the page after a build.

`PreviewServer(project, port=0).run(stop_event)` binds a `ThreadingHTTPServer` to 127.0.0.1, runs
a `Watcher` (the same one `briefgen watch` uses) and tells open pages what happened through
Server-Sent Events at `/__briefgen__/events`:

- every state message carries the number of the last good build (`generation`) and, if the last
  build failed, its error lines; a page built from an older generation reloads itself, a page
  shown while the build is broken overlays the errors on the last good brief, and removes them
  when a build succeeds again;
- the script that does this is injected into the copy of an HTML page the server sends, never
  into the file on disk. The built HTML's Content-Security-Policy allows no script, so the served
  copy's policy is the same one plus `script-src 'nonce-…'` (that script only, by a fresh nonce)
  and `connect-src 'self'` (the event stream).

Only regular files under output/ are served, hidden ones (output/.briefgen/, temp files) excluded;
a path that leaves output/ (`..`, encoded or not, a symlink) is a 404. Requests naming another host
are refused (403), so a page elsewhere cannot reach the preview through DNS rebinding.
"""

from __future__ import annotations

import contextlib
import errno
import html
import json
import mimetypes
import re
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .project import open_project
from .watch import Watcher, WatchResult

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
EVENTS_PATH = "/__briefgen__/events"
HEARTBEAT_SECONDS = 15.0
INDEX = "brief.html"

_CSP_META = re.compile(
    r"""<meta\b[^>]*?http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>""", re.I
)
_CONTENT_ATTR = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_REPLACED_DIRECTIVES = {"script-src", "script-src-elem", "script-src-attr", "connect-src"}


class BuildStatus:
    """What the pages must know about the builds, shared between the watcher and the server."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.version = 0  # bumps on every change of state, for the event streams
        self.generation = 0  # bumps on every good build that wrote something
        self.errors: list[str] = []  # the last build's error lines; empty if it succeeded
        self.built = False  # a build has finished (good or bad) since the server started
        self.closing = False

    def update(self, result: WatchResult) -> None:
        with self._changed:
            self.built = True
            if result.ok:
                self.errors = []
                if not result.skipped:
                    self.generation += 1
            else:
                self.errors = list(result.errors)
            self.version += 1
            self._changed.notify_all()

    def snapshot(self) -> dict:
        with self._changed:
            return {
                "version": self.version,
                "generation": self.generation,
                "errors": list(self.errors),
                "built": self.built,
            }

    def wait(self, seen: int, timeout: float) -> dict | None:
        """The state once its version differs from `seen`; None on timeout or when closing."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen or self.closing, timeout)
            if self.closing or self.version == seen:
                return None
        return self.snapshot()

    def close(self) -> None:
        with self._changed:
            self.closing = True
            self._changed.notify_all()


# --- the page script and the served copy of the HTML -----------------------------------------

_SCRIPT = """
(function () {
  "use strict";
  var generation = %(generation)d, isBrief = %(is_brief)s, box = null;
  function hide() { if (box) { box.remove(); box = null; } }
  function show(lines) {
    if (!box) {
      box = document.createElement("div");
      box.id = "briefgen-errors";
      box.setAttribute("role", "alert");
      var s = box.style;
      s.position = "fixed"; s.left = "0"; s.right = "0"; s.top = "0"; s.zIndex = "2147483647";
      s.maxHeight = "60vh"; s.overflow = "auto"; s.padding = "1em 1.5em"; s.margin = "0";
      s.background = "#7f1d1d"; s.color = "#fff"; s.boxShadow = "0 2px 12px rgba(0,0,0,.4)";
      s.font = "14px/1.45 ui-monospace, 'DejaVu Sans Mono', monospace";
      document.body.appendChild(box);
    }
    box.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "briefgen: the build failed" +
      (isBrief ? "; this page shows the last good build." : ".");
    var pre = document.createElement("pre");
    pre.style.whiteSpace = "pre-wrap"; pre.style.margin = ".6em 0 0";
    pre.textContent = lines.join("\\n");
    box.appendChild(title);
    box.appendChild(pre);
  }
  var events = new EventSource("%(events)s");
  events.addEventListener("state", function (event) {
    var state = JSON.parse(event.data);
    if (state.errors.length) { show(state.errors); }
    else if (state.built && state.generation !== generation) { events.close(); location.reload(); }
    else { hide(); }
  });
})();
"""


def served_policy(original: str, nonce: str) -> str:
    """`original` with its script and connect directives replaced by the preview script's."""
    kept = [
        d.strip()
        for d in original.split(";")
        if d.strip() and d.split()[0].lower() not in _REPLACED_DIRECTIVES
    ]
    return "; ".join([*kept, f"script-src 'nonce-{nonce}'", "connect-src 'self'"])


def served_html(page: str, generation: int, is_brief: bool = True) -> str:
    """The page as the preview serves it: CSP widened for one nonce'd script, which is added."""
    nonce = secrets.token_urlsafe(18)

    def widen(match: re.Match) -> str:
        found = _CONTENT_ATTR.search(match.group(0))
        original = html.unescape((found.group(1) or found.group(2) or "") if found else "")
        policy = html.escape(served_policy(original or "default-src 'none'", nonce), quote=False)
        policy = policy.replace('"', "&quot;")
        return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'

    page = _CSP_META.sub(widen, page)
    script = _SCRIPT % {
        "generation": generation,
        "is_brief": "true" if is_brief else "false",
        "events": EVENTS_PATH,
    }
    tag = f'<script nonce="{nonce}">{script}</script>\n'
    at = page.lower().rfind("</body>")
    return page[:at] + tag + page[at:] if at >= 0 else page + tag


def placeholder_page(status: dict) -> str:
    """What `/` shows before any good build: 'building' or the errors (the script overlays them)."""
    if status["errors"]:
        heading = "The brief could not be built"
        body = "<pre>" + html.escape("\n".join(status["errors"])) + "</pre>"
    else:
        heading = "Building the brief\u2026"
        body = "<p>This page reloads by itself when the build is done.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>briefgen preview</title></head><body><h1>{heading}</h1>{body}</body></html>"
    )


# --- the HTTP side -----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def version_string(self) -> str:
        return "briefgen-preview"

    def log_message(self, format: str, *args) -> None:  # noqa: A002  (quiet: no access log)
        pass

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def _respond(self, with_body: bool) -> None:
        if not self._host_allowed():
            return self._plain(HTTPStatus.FORBIDDEN, "forbidden host\n", with_body)
        path = urlsplit(self.path).path
        if path == EVENTS_PATH:
            return self._events() if with_body else self._plain(HTTPStatus.OK, "", False)
        if path in ("", "/"):
            path = "/" + INDEX
        file = self.server.resolve(path)
        status = self.server.status.snapshot()
        if file is None:
            if path == "/" + INDEX:  # no good build yet: say what is happening
                page = served_html(placeholder_page(status), status["generation"], False)
                return self._send(HTTPStatus.OK, page.encode(), "text/html", with_body)
            return self._plain(HTTPStatus.NOT_FOUND, "not found\n", with_body)
        try:
            data = file.read_bytes()
        except OSError:
            return self._plain(HTTPStatus.NOT_FOUND, "not found\n", with_body)
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind == "text/html":
            page = served_html(data.decode("utf-8", "replace"), status["generation"])
            data = page.encode("utf-8")
        self._send(HTTPStatus.OK, data, kind, with_body)

    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        port = self.server.server_address[1]
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _send(self, code: int, data: bytes, kind: str, with_body: bool) -> None:
        self.send_response(code)
        charset = "; charset=utf-8" if kind.startswith("text/") else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def _plain(self, code: int, text: str, with_body: bool) -> None:
        self._send(code, text.encode(), "text/plain", with_body)

    def _events(self) -> None:
        """Server-Sent Events: the state now, then again after every build, until closed."""
        status = self.server.status
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        state = status.snapshot()
        try:
            self.wfile.write(b"retry: 500\n\n")
            while state is not None or not status.closing:
                if state is not None:
                    data = json.dumps(state, ensure_ascii=False)
                    self.wfile.write(f"event: state\ndata: {data}\n\n".encode())
                    seen = state["version"]
                else:
                    self.wfile.write(b": ping\n\n")  # notices a closed connection
                self.wfile.flush()
                state = status.wait(seen, HEARTBEAT_SECONDS)
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # event streams never hold up the exit
    output: Path
    status: BuildStatus

    def resolve(self, url_path: str) -> Path | None:
        """The file under output/ that `url_path` names, or None (never anything outside)."""
        path = unquote(url_path)
        if "\x00" in path or "\\" in path:
            return None
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
            return None
        root = self.output.resolve()
        try:
            file = root.joinpath(*parts).resolve(strict=True)
            file.relative_to(root)
        except (OSError, ValueError, RuntimeError):
            return None
        return file if file.is_file() else None


def bind(port: int = DEFAULT_PORT, host: str = HOST) -> tuple[_Server, bool]:
    """A server on `host`:`port`, or on a free port if that one is taken (then True)."""
    try:
        return _Server((host, port), _Handler), False
    except OSError as exc:
        if port == 0 or exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
    return _Server((host, 0), _Handler), True


class PreviewServer:
    """The preview: an HTTP server on 127.0.0.1 and a `Watcher` rebuilding the project."""

    def __init__(
        self,
        project: str | Path = ".",
        *,
        port: int = DEFAULT_PORT,
        on_result: Callable[[WatchResult], None] | None = None,
        strict: bool = False,
        pdf: bool = True,
        **watcher_options,
    ):
        self.project = open_project(project)
        self.status = BuildStatus()
        self._on_result = on_result
        self.watcher = Watcher(
            self.project.root, on_result=self._result, strict=strict, pdf=pdf, **watcher_options
        )
        self.httpd, self.port_was_taken = bind(port)
        self.httpd.output = self.project.output
        self.httpd.status = self.status
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}/"

    def _result(self, result: WatchResult) -> None:
        self.status.update(result)
        if self._on_result:
            self._on_result(result)

    def start(self) -> None:
        """Serve in a background thread (the watcher is started by `run`)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.httpd.serve_forever, name="briefgen-serve", daemon=True
            )
            self._thread.start()

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Serve, build, rebuild on changes until `stop_event` is set (or Ctrl-C); then close."""
        self.start()
        try:
            self.watcher.run(stop_event)
        finally:
            self.close()

    def close(self) -> None:
        self.status.close()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(OSError):
            self.httpd.server_close()
