"""Python 3 standard library HTTP server: GET / -> "ok", /json -> a JSON
message, /health -> 200. HTTP/1.1 keep-alive; no per-request log lines."""
import http.server
import json
import os

BODY_JSON = json.dumps({"message": "Hello, World!"}, separators=(",", ":")).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle
    # and delayed ACKs add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path == "/json":
            self.reply(200, "application/json", BODY_JSON)
        elif self.path == "/health":
            self.reply(200, "text/plain", b"")
        elif self.path == "/":
            self.reply(200, "text/plain", b"ok")
        else:
            self.reply(404, "text/plain", b"")

    def reply(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
