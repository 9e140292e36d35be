"""A loopback HTTP server standing in for the on-call webhook."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


class Webhook:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.received: list[dict] = []

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/page"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook = Webhook(server)
    hook.received = received
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
