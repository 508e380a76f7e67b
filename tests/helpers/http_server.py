"""A local HTTP file server for download tests: 127.0.0.1 only, Range support, a cut-off switch.

It serves in-memory bodies, records every request (path and Range header) and can close the
connection halfway through the first response for a path, as a flaky network would. It answers at
most `max_requests` requests and stops when the `with` block ends.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass(frozen=True)
class Served:
    body: bytes
    cut_first_after_bytes: int | None = None    # first GET sends only this much, then hangs up
    honour_range: bool = True                   # False: answer every Range with a full 200


@dataclass(frozen=True)
class Seen:
    path: str
    range_header: str | None


class LocalServer:
    """`with LocalServer() as server: server.serve("/m.zip", data); server.url("/m.zip")`."""

    def __init__(self, max_requests: int = 50) -> None:
        self.files: dict[str, Served] = {}
        self.requests: list[Seen] = []
        self.max_requests = max_requests
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve(self, path: str, body: bytes, *, cut_first_after_bytes: int | None = None,
              honour_range: bool = True) -> None:
        self.files[path] = Served(body, cut_first_after_bytes, honour_range)

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _record(self, seen: Seen) -> int:
        """Returns how many earlier requests asked for the same path."""
        with self._lock:
            earlier = sum(1 for r in self.requests if r.path == seen.path)
            self.requests.append(seen)
            return earlier

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5                                     # a stuck client cannot hold a thread
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                earlier = server._record(Seen(path, self.headers.get("Range")))
                if len(server.requests) > server.max_requests:
                    self._send(503, {"Content-Length": "0"}, b"")
                    return
                served = server.files.get(path)
                if served is None:
                    self._send(404, {"Content-Length": "0"}, b"")
                    return
                body, size = served.body, len(served.body)
                match = _RANGE.fullmatch(self.headers.get("Range") or "")
                if match and served.honour_range:
                    start = int(match.group(1))
                    end = int(match.group(2)) if match.group(2) else size - 1
                    if start >= size:
                        self._send(416, {"Content-Range": f"bytes */{size}", "Content-Length": "0"}, b"")
                        return
                    part = body[start:end + 1]
                    self._send(206, {"Content-Range": f"bytes {start}-{start + len(part) - 1}/{size}",
                                     "Content-Length": str(len(part))}, part)
                    return
                if served.cut_first_after_bytes is not None and earlier == 0:
                    # Announce the whole body, send part of it, hang up.
                    self._send(200, {"Content-Length": str(size)}, body[:served.cut_first_after_bytes])
                    return
                self._send(200, {"Content-Length": str(size)}, body)

        return Handler
