"""A target on 127.0.0.1 whose every answer is an error whose body and headers hold what breaks reports: markup,
`]]>`, `&`, NUL and ESC, invalid UTF-8, and a secret-looking `sig=`. `with serve() as url: ...`.

http.server, not the reference: the bytes are raw, as a broken or hostile endpoint sends them.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE = "nastysig0123456789abcdef"  # the tests grep reports for it: it must have been redacted
BODY = (b'{"Message":"ErrorCode:Nasty;<script>alert(1)</script> ]]> & &amp; <![CDATA[x]]> \x00\x1b[31m\x07 '
        b"\xff\xfe\xc3\x28 \xed\xa0\x80 https://s.blob.core.windows.net/c?sv=1&sig=" + SIGNATURE.encode() +
        b' <redacted>"}')
HEADER = '<b>]]>&amp;</b> "quoted"'
STATUS = 400


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        self.send_response(STATUS)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("X-Nasty", HEADER)
        self.send_header("x-ms-request-id", "nasty-<&>")
        self.end_headers()
        self.wfile.write(BODY)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, *args) -> None:  # quiet: the test reads the suite's output, not the server's
        pass


@contextmanager
def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
