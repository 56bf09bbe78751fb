"""A university's webhook receiver: a real HTTP(S) server on localhost, which can be down."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.processes import free_port


class Receiver:
    """`host` and `port` say where it listens (two receivers may share a port on 127.0.0.1 and
    127.0.0.2); with `ssl_context` it speaks HTTPS and records the SNI name each client sent."""

    def __init__(self, *, host="127.0.0.1", port=None, ssl_context=None):
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}/hooks/kafaat"
        self.received: list[dict] = []
        self.server_names: list[str | None] = []
        self.status = 200
        self._server = None
        self._ssl_context = ssl_context
        if ssl_context is not None:
            ssl_context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        if self._ssl_context is not None:
            self._server.socket = self._ssl_context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
