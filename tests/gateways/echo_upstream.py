"""The app behind the gateway in tests/gateways/*_test.sh: answers every request with the X-Session-* headers the
gateway passed on, and appends one line per request to LOG, so a test can tell what reached it (and what did not).
   python3 echo_upstream.py LOG      binds 127.0.0.1 on a free port and prints "listening PORT" once it is bound"""
import http.server, sys

class Echo(http.server.BaseHTTPRequestHandler):
    def answer(self):
        seen = {name: self.headers.get(name, "") for name in ("X-Session-User-Id", "X-Session-Handle", "X-Session-Payload")}
        line = f"{self.command} {self.path} " + " ".join(f"{k.lower()}={v}" for k, v in seen.items())
        with open(sys.argv[1], "a") as log:
            log.write(line + "\n")
        body = f"user={seen['X-Session-User-Id']}\npayload={seen['X-Session-Payload']}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = do_DELETE = answer
    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
