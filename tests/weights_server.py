"""A real HTTP server on 127.0.0.1 that serves test files, well or badly.

Download tests start one per test and give each path a behavior: serve the
body, drop the connection halfway, stall, or wait until several clients
are downloading at once.
"""

import dataclasses
import http.server
import threading
import time

__all__ = ["FileServer", "Route"]

# Behaviors of a route; see Route.
SERVE = "serve"
DROP_HALFWAY = "drop_halfway"
STALL_BEFORE_HEADERS = "stall_before_headers"
STALL_MID_BODY = "stall_mid_body"
WAIT_FOR_ALL = "wait_for_all"
REDIRECT = "redirect"
NO_LENGTH = "no_length"


@dataclasses.dataclass
class Route:
    """What the server does for one path.

    Attributes:
        body: the bytes to serve (for REDIRECT, the target URL as bytes).
        behavior: one of the module's behavior constants.
        parties: for WAIT_FOR_ALL, the number of requests that must be in
            flight before any of them gets its body.
    """

    body: bytes
    behavior: str = SERVE
    parties: int = 1


class FileServer:
    """Threaded HTTP server on an ephemeral port of 127.0.0.1.

    Unknown paths get 404. ``requests`` lists every requested path in
    arrival order. Use as a context manager; leaving it releases every
    stalled handler and stops the server.
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        self._release = threading.Event()
        self._barriers = {}
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), self._handler_class()
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path, body, behavior=SERVE, parties=1):
        self.routes[path] = Route(body=body, behavior=behavior, parties=parties)
        if behavior == WAIT_FOR_ALL:
            self._barriers[path] = threading.Barrier(parties, timeout=120)

    def count(self, path):
        with self._lock:
            return self.requests.count(path)

    def wait_for_request(self, path, timeout=60):
        """Block until ``path`` was requested at least once, or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while self.count(path) == 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no request for {path} within {timeout} s")
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._release.set()
        for barrier in self._barriers.values():
            barrier.abort()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _handler_class(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def do_GET(self):
                with server._lock:
                    server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                self.close_connection = True
                getattr(self, "_" + route.behavior)(route)

            def _headers(self, length):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()

            def _serve(self, route):
                self._headers(len(route.body))
                self.wfile.write(route.body)

            def _no_length(self, route):
                # The end of the body is marked only by closing the connection.
                self._headers(None)
                self.wfile.write(route.body)

            def _drop_halfway(self, route):
                self._headers(len(route.body))
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()

            def _stall_before_headers(self, route):
                server._release.wait(60)

            def _stall_mid_body(self, route):
                self._headers(len(route.body))
                self.wfile.write(route.body[:1000])
                self.wfile.flush()
                server._release.wait(60)

            def _wait_for_all(self, route):
                server._barriers[self.path].wait()
                self._headers(len(route.body))
                # Small slices with pauses keep the downloads overlapping.
                step = max(len(route.body) // 8, 1)
                for start in range(0, len(route.body), step):
                    self.wfile.write(route.body[start : start + step])
                    self.wfile.flush()
                    time.sleep(0.05)

            def _redirect(self, route):
                self.send_response(302)
                self.send_header("Location", route.body.decode("utf-8"))
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
