"""No network: the test run's guard (tests/netguard/), and a build that never connects anywhere.

The guard is installed for the whole run by conftest.py: in this process, and in every Python
subprocess through PYTHONPATH's sitecustomize. These tests check the guard itself (it refuses,
it records, loopback still works), then build the example with http(s) references in its content
and in its templates and check that not one connection was attempted, in this process and, with
strace, in the build's whole process tree (pandoc and the C libraries included).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import briefgen_netguard
import pytest
from briefgen_netguard import NetworkBlocked
from conftest import REPO, NetworkAttempts

from briefgen.build import build
from briefgen.errors import BriefgenError

REMOTE = "http://example.org"


# -- the guard -------------------------------------------------------------------------------------


def test_the_guard_refuses_every_way_out_and_records_each(network_attempts):
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("example.org", 80), timeout=1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlocked):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: never routable anyway
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlocked):
        sock.connect_ex(("192.0.2.1", 9))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(NetworkBlocked):
        sock.sendto(b"x", ("192.0.2.1", 53))
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen(f"{REMOTE}/", timeout=1)  # noqa: S310
    assert isinstance(caught.value.reason, NetworkBlocked)
    found = network_attempts()
    assert len(found) == 6, found
    assert all(line.startswith(f"{os.getpid()}\t") for line in found)
    verbs = [line.split("\t", 1)[1].split(" ")[0].split("(")[0] for line in found]
    assert verbs == [
        "create_connection",
        "connect",
        "connect_ex",
        "sendto",
        "getaddrinfo",
        "create_connection",  # urllib: refused before any name lookup
    ]


def test_loopback_unix_sockets_and_binding_stay_allowed():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, port), timeout=2):
                server.accept()[0].close()
        assert socket.getaddrinfo("localhost", port)
    left, right = socket.socketpair()  # AF_UNIX
    left.sendall(b"ok")
    assert right.recv(2) == b"ok"
    left.close()
    right.close()


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("preview.localhost", True),
        (None, True),
        ("", True),
        ("0.0.0.0", True),
        ("10.0.0.1", False),
        ("192.168.1.10", False),
        ("8.8.8.8", False),
        ("2001:db8::1", False),
        ("example.org", False),
        ("localhost.example.org", False),
        ("<broadcast>", False),
    ],
)
def test_what_counts_as_local(host, local):
    assert briefgen_netguard.is_local(host) is local


def test_a_caught_attempt_is_still_seen(network_attempts):
    """Code that swallows the error does not hide the attempt: `_no_network` (conftest) fails a
    test at teardown on the same record this reads."""
    with contextlib.suppress(OSError):  # what a careless caller would do
        socket.create_connection(("example.net", 443), timeout=1)
    assert network_attempts() == [f"{os.getpid()}\tcreate_connection to ('example.net', 443)"]
    assert NetworkAttempts()() == []  # a test starting now starts clean


def test_python_subprocesses_are_guarded_too(network_attempts):
    assert str(Path(briefgen_netguard.__file__).parent) in os.environ["PYTHONPATH"]
    code = "import socket; socket.create_connection(('example.org', 80), timeout=1)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "NetworkBlocked" in result.stderr and "network access blocked" in result.stderr
    found = network_attempts()
    assert len(found) == 1 and "create_connection to ('example.org', 80)" in found[0]
    assert not found[0].startswith(f"{os.getpid()}\t")  # recorded by the subprocess


# -- a build with remote references ---------------------------------------------------------------

#: Remote references in the content: links (printed, never fetched), images (not allowed in
#: content: dropped by the sanitiser), raw HTML and a source's url.
CONTENT_LINKS = f"""
  - id: remote
    title: Remote references
    content:
      - |
        A link to [the publisher]({REMOTE}/page) and <{REMOTE}/bare>; an image
        ![chart]({REMOTE}/chart.png) and <img src="{REMOTE}/raw.png"> and
        <iframe src="{REMOTE}/frame"></iframe> [@jpost-lavrov-iraq-visit].
"""

#: Remote resources in a template override: the PDF's fetcher must refuse them, not fetch them.
REMOTE_CSS = f"""
@font-face {{ font-family: Remote; src: url("{REMOTE}/remote.woff2"); }}
body {{ font-family: Remote, serif; background-image: url("{REMOTE}/background.png"); }}
"""


def with_remote_content(root: Path) -> Path:
    outline = root / "content" / "brief.yaml"
    outline.write_text(outline.read_text("utf-8") + CONTENT_LINKS, "utf-8")
    source = root / "content" / "sources" / "jpost-lavrov-iraq-visit.txt"
    text = source.read_text("utf-8")
    source.write_text(re.sub(r"(?m)^url: .*$", f"url: {REMOTE}/lavrov", text, count=1), "utf-8")
    return root


def with_remote_template(root: Path) -> Path:
    (root / "templates").mkdir(exist_ok=True)
    builtin = (REPO / "templates" / "print.css").read_text("utf-8")
    (root / "templates" / "print.css").write_text(builtin + REMOTE_CSS, "utf-8")
    return root


@pytest.mark.pdf
def test_a_full_build_with_remote_links_in_the_content_connects_nowhere(
    example_copy, network_attempts
):
    root = with_remote_content(example_copy)
    result = build(root)
    assert not result.skipped
    html = (root / "output" / "brief.html").read_text("utf-8")
    assert f'href="{REMOTE}/page"' in html  # a link, kept as one
    assert f"{REMOTE}/chart.png" not in html and "<iframe" not in html  # dropped, never fetched
    assert (root / "output" / "brief.pdf").read_bytes().startswith(b"%PDF-")
    assert network_attempts() == []


@pytest.mark.pdf
def test_remote_resources_in_a_template_are_refused_not_fetched(example_copy, network_attempts):
    root = with_remote_template(example_copy)
    with pytest.raises(BriefgenError, match=r"refused to fetch 'http://example\.org/") as caught:
        build(root)
    assert "a build never uses the network" in str(caught.value)
    assert not (root / "output").exists() or not any((root / "output").iterdir())
    assert network_attempts() == []


STRACE = shutil.which("strace")
INET_CONNECT = re.compile(r"\b(connect|sendto|sendmsg)\(\d+, \{sa_family=AF_INET6?\b")


@pytest.mark.pdf
@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
def test_the_whole_process_tree_of_a_cli_build_opens_no_internet_socket(
    example_copy, tmp_path, network_attempts
):
    """strace -f sees every process the build starts (pandoc, any helper) and every C library:
    a full build of the example with remote links in its content makes no AF_INET(6) connection;
    and the guard, which this subprocess has too (sitecustomize), recorded no attempt."""
    root = with_remote_content(example_copy)
    trace = tmp_path / "trace"

    def traced(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [STRACE, "-f", "-qq", "--seccomp-bpf", "-o", str(trace)]
            + ["-e", "trace=execve,connect,sendto,sendmsg"]
            + [sys.executable, "-m", "briefgen", "build", str(root), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    result = traced()
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    log = trace.read_text()
    assert re.search(r'execve\("[^"]*pandoc', log), "strace did not follow the build's children"
    assert not INET_CONNECT.findall(log), log
    assert network_attempts() == []
