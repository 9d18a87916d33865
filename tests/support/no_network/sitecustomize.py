"""Loaded by any Python process started with this folder on PYTHONPATH (the tests do that).

An audit hook records every attempt to resolve or connect to a non-loopback host into the file named by
NETWORK_ATTEMPTS_LOG, and refuses it, so a test can prove that training stays offline.
"""

import ipaddress
import os
import socket
import sys

_LOG = os.environ.get("NETWORK_ATTEMPTS_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "", None}


def _is_local(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple) -> None:
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect":
        sock, address = args
        if sock.family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
    else:
        return
    if _is_local(host):
        return
    with open(_LOG, "a") as log:
        log.write(f"{event} {host!r} pid={os.getpid()}\n")
    raise OSError(f"network access to {host!r} refused by the test harness")


if _LOG:
    sys.addaudithook(_hook)
