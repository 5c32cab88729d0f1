"""briefgen serve: the preview server over HTTP, and (marked `browser`) live reload in Chromium.

The HTTP checks talk to a PreviewServer in a thread with http.client, which sends a path exactly
as given (no `..` folding), so traversal attempts reach the server as an attacker would send them.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from cli_run import running
from conftest import OUTLINE, SOURCE_A, write_project
from test_watch import TIMEOUT, save_atomically, wait_for

from briefgen.serve import EVENTS_PATH, PreviewServer, served_html, served_policy
from briefgen.watch import WatchResult


class Served:
    """A PreviewServer on a free port, run in a thread, with every build result it reported."""

    def __init__(self, root: Path, **options):
        self.root = root
        self.results: list[WatchResult] = []
        options = {"pdf": False, "poll": 0.2, **options}
        self.server = PreviewServer(root, port=0, on_result=self.results.append, **options)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.server.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        wait_for(lambda: self.results, what="the first build")
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the server did not stop"

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.httpd.server_address[1]

    def get(self, path: str, host: str | None = None, method: str = "GET"):
        """(status, headers, body) for `path` sent verbatim."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.putrequest(method, path, skip_host=True)
            conn.putheader("Host", host or f"127.0.0.1:{self.port}")
            conn.endheaders()
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@pytest.fixture
def served(project):
    with Served(project) as running:
        yield running


# --- over HTTP ---------------------------------------------------------------------------------


def test_binds_to_loopback_only_and_serves_the_brief(served):
    assert served.server.httpd.server_address[0] == "127.0.0.1"
    assert served.url == f"http://127.0.0.1:{served.port}/"
    status, headers, body = served.get("/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert b"against ISIS" in body
    assert served.get("/brief.html")[2].count(b"against ISIS") == body.count(b"against ISIS")
    status, _, report = served.get("/report.html")
    assert status == 200 and b"EventSource" in report  # the report reloads too


def test_the_served_copy_gets_the_script_and_the_file_on_disk_does_not(served):
    on_disk = (served.root / "output" / "brief.html").read_bytes()
    page = served.get("/brief.html")[2].decode()
    assert b"<script" not in on_disk and b"EventSource" not in on_disk

    policies = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert len(policies) == 1
    policy = policies[0].replace("&#x27;", "'")
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    directives = [d.strip() for d in policy.split(";")]
    assert "default-src 'none'" in directives  # the built page's policy, kept
    assert "style-src 'unsafe-inline'" in directives
    assert "connect-src 'self'" in directives
    assert f"script-src 'nonce-{nonce}'" in directives
    assert "unsafe-inline" not in " ".join(d for d in directives if d.startswith("script-src"))
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert scripts == [f' nonce="{nonce}"']  # one script, carrying the nonce
    assert page.index("<script") > page.index("Content-Security-Policy")
    assert served.get("/brief.html")[2].decode().count(nonce) == 0  # a new nonce each time


def test_served_policy_replaces_script_and_connect_directives():
    policy = served_policy(
        "default-src 'none'; script-src 'unsafe-inline' https:; connect-src *; img-src data:",
        "abc",
    )
    assert policy == "default-src 'none'; img-src data:; script-src 'nonce-abc'; connect-src 'self'"
    page = served_html("<html><head></head><body><p>x</p></body></html>", 3)
    assert "<script nonce=" in page and page.endswith("</body></html>")
    assert "Content-Security-Policy" not in page  # a page with no policy does not get one


@pytest.mark.parametrize(
    "path",
    [
        "/../content/brief.yaml",
        "/%2e%2e/content/brief.yaml",
        "/%2E%2E%2Fcontent%2Fbrief.yaml",
        "/..%2fcontent/brief.yaml",
        "/output/../../content/brief.yaml",
        "/..\\content\\brief.yaml",
        "/%5c..%5ccontent%5cbrief.yaml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/brief.html%00.txt",
        "/.briefgen/state.json",
        "/%2ebriefgen/state.json",
        "/outside-link",
        "/nothing-here.html",
        "/content/brief.yaml",
    ],
)
def test_only_files_under_output_are_served(served, path):
    (served.root / "output" / "outside-link").symlink_to(served.root / "content" / "brief.yaml")
    status, _, body = served.get(path)
    assert status == 404, (path, body[:200])
    assert b"title:" not in body and b"root:" not in body


def test_requests_for_another_host_are_refused(served):
    """A page on a rebound domain reaches 127.0.0.1 with its own Host: no brief for it."""
    status, _, body = served.get("/", host="attacker.example:80")
    assert status == 403 and b"against ISIS" not in body
    assert served.get("/", host=f"localhost:{served.port}")[0] == 200


@pytest.mark.pdf
def test_the_pdf_is_served_as_is(project):
    with Served(project, pdf=True) as running:
        status, headers, body = running.get("/brief.pdf")
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert body == (project / "output" / "brief.pdf").read_bytes()
        status, headers, body = running.get("/brief.pdf", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000


def _events(served: Served, count: int, action=None) -> list[dict]:
    """The first `count` state messages of the event stream (running `action` after the first)."""
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=TIMEOUT)
    states: list[dict] = []
    try:
        request = f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n\r\n"
        sock.sendall(request.encode())
        stream = sock.makefile("rb")
        while len(states) < count:
            line = stream.readline()
            assert line, "the stream closed"
            if line.startswith(b"data: "):
                states.append(json.loads(line[6:]))
                if len(states) == 1 and action:
                    action()
    finally:
        sock.close()
    return states


def test_the_event_stream_sends_the_state_now_and_after_each_build(served):
    outline = served.root / "content" / "brief.yaml"
    first, broken = _events(served, 2, lambda: save_atomically(outline, "title: [oops\n"))
    assert first["errors"] == [] and first["generation"] == 1 and first["built"]
    assert broken["generation"] == 1  # the last good build is still the one on disk
    assert any("brief.yaml:" in line and ": error: " in line for line in broken["errors"])

    now, fixed = _events(served, 2, lambda: save_atomically(outline, OUTLINE + "# edited\n"))
    assert now["errors"] == broken["errors"]  # a new page learns of the failure at once
    assert fixed["errors"] == [] and fixed["generation"] == 2


def test_before_any_good_build_the_page_shows_the_errors(tmp_path):
    root = write_project(tmp_path / "broken", outline="title: [oops\n")
    with Served(root) as running:
        status, _, body = running.get("/")
        assert status == 200
        assert b"could not be built" in body and b"brief.yaml:2:1: error: YAML" in body
        assert b"EventSource" in body
        assert not (root / "output" / "brief.html").exists()


def test_a_taken_port_falls_back_to_a_free_one(project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = PreviewServer(project, port=port, pdf=False)
        try:
            assert server.port_was_taken
            assert server.httpd.server_address[1] not in (port, 0)
        finally:
            server.close()


def test_stopping_ends_open_event_streams(project):
    running = Served(project).__enter__()
    connected = threading.Event()
    done = threading.Event()

    def listen() -> None:
        sock = socket.create_connection(("127.0.0.1", running.port), timeout=TIMEOUT)
        sock.sendall(
            f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n\r\n".encode()
        )
        stream = sock.makefile("rb")
        while stream.readline():
            connected.set()
        done.set()  # the server closed the stream
        sock.close()

    threading.Thread(target=listen, daemon=True).start()
    assert connected.wait(TIMEOUT)
    started = time.monotonic()
    running.__exit__(None, None, None)
    assert done.wait(TIMEOUT)
    assert time.monotonic() - started < 3


# --- in the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    from browser import chromium

    with chromium() as instance:
        yield instance


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url, wait_until="load")
    return context, page, problems


def _mark(page) -> None:
    """Something a reload wipes out: its absence shows the page reloaded by itself."""
    page.evaluate("window.notReloaded = true")


def _reloaded(page) -> bool:
    return page.evaluate("window.notReloaded === undefined")


@pytest.mark.browser
def test_browser_page_reloads_after_a_save_shows_errors_then_recovers(browser, served):
    from playwright.sync_api import expect

    context, page, problems = _open(browser, served.url)
    try:
        body, overlay = page.locator("body"), page.locator("#briefgen-errors")
        expect(body).to_contain_text("against ISIS")
        _mark(page)

        # A source's wording changes: the excerpt (now `changed`) prints the new words.
        source = served.root / "content" / "sources" / "lavrov.txt"
        save_atomically(source, SOURCE_A.replace("against ISIS", "against Daesh"))
        expect(body).to_contain_text("against Daesh", timeout=TIMEOUT * 1000)
        assert _reloaded(page)
        _mark(page)

        # A broken outline: the errors overlay the last good brief, which stays.
        outline = served.root / "content" / "brief.yaml"
        save_atomically(outline, OUTLINE.replace("sections:\n", "sections: [\n", 1))
        expect(overlay).to_be_visible(timeout=TIMEOUT * 1000)
        expect(overlay).to_contain_text("build failed")
        expect(overlay).to_contain_text("brief.yaml:")
        expect(overlay).to_contain_text("error")
        expect(body).to_contain_text("against Daesh")
        assert not _reloaded(page)

        # Fixed: the page reloads with the new brief and no overlay.
        save_atomically(outline, OUTLINE.replace('title: "Russia and Iraq"', 'title: "Fixed"'))
        expect(page).to_have_title(re.compile("^Fixed"), timeout=TIMEOUT * 1000)
        expect(overlay).to_have_count(0)
        assert _reloaded(page)
        assert problems == []  # the CSP let the script run, and nothing else went wrong
        assert b"EventSource" not in (served.root / "output" / "brief.html").read_bytes()
    finally:
        context.close()


@pytest.mark.browser
def test_browser_error_page_turns_into_the_brief_when_fixed(browser, tmp_path):
    from playwright.sync_api import expect

    root = write_project(tmp_path / "broken", outline="title: [oops\n")
    with Served(root) as running:
        context, page, problems = _open(browser, running.url)
        try:
            errors = page.locator("#briefgen-errors")
            expect(errors).to_contain_text("brief.yaml:2:1: error: YAML")
            expect(errors).not_to_contain_text("last good build")  # there is none
            save_atomically(root / "content" / "brief.yaml", OUTLINE)
            expect(page.locator("body")).to_contain_text("against ISIS", timeout=TIMEOUT * 1000)
            expect(page.locator("#briefgen-errors")).to_have_count(0)
            assert problems == []
        finally:
            context.close()


def test_cli_serve_prints_the_url_serves_and_stops_on_ctrl_c(project):
    import urllib.request

    args = ("serve", str(project), "--port", "0", "--no-pdf")
    with running(*args, cwd=project, timeout=TIMEOUT) as lines:
        wait_for(lambda: any("built in" in line for line in lines), what="the first build")
        url = re.fullmatch(
            r"serving output/ at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)\n", lines[0]
        )
        assert url, lines
        with urllib.request.urlopen(url.group(1), timeout=TIMEOUT) as response:
            assert b"against ISIS" in response.read()
