"""A faceoff contestant on Python's standard library, with no dependencies: /healthz and the
contract endpoints its contestant.toml declares (docs/contestants.md). Replace the handlers
with calls into your own app, keeping the paths and answers."""

import json
import math
import os
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_SLEEP_MS = 10000
MAX_COMPUTE_N = 1000000
INTEGER = re.compile(r"^[+-]?\d+$")


def parse_integer(values):
    """A decimal integer from a query parameter, or None when the value is not one."""
    value = values[0] if values else None
    return int(value) if value is not None and INTEGER.match(value) else None


def compute_stats(n):
    """Sum, mean, population standard deviation, min and max of x_i = ((i*7919) mod 10007)/10007."""
    xs = [((i * 7919) % 10007) / 10007 for i in range(n)]
    total = math.fsum(xs)
    mean = total / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / n)
    return {"n": n, "sum": total, "mean": mean, "std": std, "min": min(xs), "max": max(xs)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, with Content-Length on every answer

    def send(self, status, content_type, body):
        data = body.encode("utf-8")
        self.send_response(status)  # also sends Date
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, value):
        self.send(status, "application/json", json.dumps(value, separators=(",", ":")))

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path == "/healthz":
            self.send(200, "text/plain", "ok")
        elif url.path == "/plaintext":
            self.send(200, "text/plain", "Hello, World!")
        elif url.path == "/json":
            self.send_json(200, {"message": "Hello, World!"})
        elif url.path == "/io":
            ms = parse_integer(query.get("ms"))
            if ms is None or not 0 <= ms <= MAX_SLEEP_MS:
                self.send_json(400, {"error": f"ms must be an integer from 0 to {MAX_SLEEP_MS}"})
                return
            time.sleep(ms / 1000)  # one thread per connection: others go on meanwhile
            self.send_json(200, {"slept_ms": ms})
        elif url.path == "/compute":
            n = parse_integer(query.get("n"))
            self.send_json(200, compute_stats(1 if n is None or n < 1 else min(n, MAX_COMPUTE_N)))
        else:
            self.send_json(404, {"error": "not found"})

    def log_message(self, format, *args):
        pass  # one line per request would cost more than the request


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default of 5 refuses connections under load


if __name__ == "__main__":
    Server((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()
