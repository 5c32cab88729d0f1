"""The test run's network guard: any attempt to reach a non-loopback address fails, and is recorded.

Installed in the pytest process by `tests/conftest.py`, and in every Python subprocess the tests
start through `tests/netguard/sitecustomize.py` (conftest puts this folder on PYTHONPATH). What is
patched: `socket.socket.connect`, `connect_ex` and `sendto` (so `ssl`, `http.client`, `urllib`,
`asyncio` and anything else built on Python sockets), `socket.create_connection`, and the name
lookups `getaddrinfo`, `gethostbyname` and `gethostbyname_ex` (a DNS query is network access too).
Loopback (127.0.0.0/8, ::1, `localhost`), Unix sockets and binding stay allowed: `serve` and
Playwright use them.

Not covered: programs that are not Python (pandoc, Chromium, a C library's own sockets), and
Python started with -I or -E (which ignore PYTHONPATH). The tests check the build's whole process
tree with strace for that (tests/test_network.py).

Each attempt is kept in `attempts` and, when BRIEFGEN_NETGUARD_LOG names a file, appended to it
as one line (`pid<TAB>what`), so that the pytest process sees its subprocesses' attempts too.
"""

from __future__ import annotations

import errno
import os
import socket
import threading

LOG_VARIABLE = "BRIEFGEN_NETGUARD_LOG"
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

attempts: list[str] = []
_lock = threading.Lock()
_installed = False


class NetworkBlocked(OSError):
    """A test (or the code it runs) tried to reach the network."""


def is_local(host) -> bool:
    """True for loopback addresses and names, and for None/'' (a bind or a local lookup)."""
    import ipaddress

    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip().strip("[]").lower().rstrip(".")
    if host == "" or host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_unspecified


def _refuse(what: str) -> None:
    line = f"{os.getpid()}\t{what}"
    with _lock:
        attempts.append(what)
        log = os.environ.get(LOG_VARIABLE)
        if log:
            try:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
            except OSError:
                pass
    raise NetworkBlocked(errno.ENETUNREACH, f"network access blocked in briefgen's tests: {what}")


def _check_address(sock, address, verb: str) -> None:
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX paths, netlink...
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_local(host):
        _refuse(f"{verb} {address!r}")


def install() -> None:
    """Patch the socket module (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_create_connection = socket.create_connection
    original_getaddrinfo = socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname
    original_gethostbyname_ex = socket.gethostbyname_ex

    def connect(self, address):
        _check_address(self, address, "connect to")
        return original_connect(self, address)

    def connect_ex(self, address):
        _check_address(self, address, "connect_ex to")
        return original_connect_ex(self, address)

    def sendto(self, data, *args):
        if args:
            _check_address(self, args[-1], "sendto")
        return original_sendto(self, data, *args)

    def create_connection(address, *args, **kwargs):
        if not is_local(address[0]):
            _refuse(f"create_connection to {address!r}")
        return original_create_connection(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        if not is_local(host):
            _refuse(f"getaddrinfo({host!r})")
        return original_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host):
        if not is_local(host):
            _refuse(f"gethostbyname({host!r})")
        return original_gethostbyname(host)

    def gethostbyname_ex(host):
        if not is_local(host):
            _refuse(f"gethostbyname_ex({host!r})")
        return original_gethostbyname_ex(host)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
