"""One webhook POST with a total deadline: connecting, sending and reading the whole answer (status line, every
header line, the body) all end within ``deadline_s`` of wall-clock time.

A per-read timeout is not enough: a receiver that trickles a header line every few seconds never lets one read time
out. Here a timer cuts the socket (``shutdown``) when the deadline passes, which ends whatever read or write is
blocked at that moment; the answer is then reported as ``PostDeadline``. The body is read in small pieces up to
``MAX_BODY`` bytes (a chat's answer is "ok"), never to the end of whatever the receiver sends.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from http.client import HTTPConnection, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 3.05
MAX_BODY = 64 * 1024


class PostDeadline(TimeoutError):
    """The webhook did not finish answering within the deadline (its message may or may not have been taken)."""


def _cut(conn: HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(url: str, body: dict[str, Any], *, deadline_s: float = 10.0) -> int:
    """POST ``body`` as JSON; the HTTP status. Raises ``PostDeadline`` past the deadline, ``OSError`` (and
    ``http.client`` errors) when there is no answer."""
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("not an http(s) URL")
    end = time.monotonic() + deadline_s
    timeout = min(CONNECT_TIMEOUT_S, deadline_s)
    conn: HTTPConnection = (HTTPSConnection(u.hostname, u.port, timeout=timeout, context=ssl.create_default_context())
                            if u.scheme == "https" else HTTPConnection(u.hostname, u.port, timeout=timeout))
    timer = threading.Timer(deadline_s, _cut, (conn,))
    timer.daemon = True
    timer.start()
    try:
        data = json.dumps(body, ensure_ascii=False).encode()
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(max(0.05, end - time.monotonic()))      # no single read outlasts the deadline
        if time.monotonic() >= end:
            raise PostDeadline()
        conn.request("POST", (u.path or "/") + (f"?{u.query}" if u.query else ""), body=data,
                     headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "vbank-desk-watcher"})
        resp = conn.getresponse()
        left = MAX_BODY
        while left > 0 and time.monotonic() < end:
            chunk = resp.read(min(4096, left))
            if not chunk:
                break
            left -= len(chunk)
        if time.monotonic() >= end:
            raise PostDeadline()
        return resp.status
    except Exception as e:
        if time.monotonic() >= end - 0.01 and not isinstance(e, PostDeadline):
            raise PostDeadline() from None                               # the timer cut it: a deadline, not a crash
        raise
    finally:
        timer.cancel()
        conn.close()
