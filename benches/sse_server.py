# A minimal OpenAI-compatible streaming server for an end-to-end measurement:
# model "r2k" -> 2000 reasoning + 2000 answer tokens at 250 tok/s; "max80k" -> 80000 answer tokens at max rate.
import http.server, json, socketserver, sys, time
PIECES = open(__import__("os").path.join(__import__("os").path.dirname(__file__), "..", "tests", "data", "answer.md")).read().replace("\n", " \n").split(" ")
def chunk(d, finish=None):
    return ("data: " + json.dumps({"id": "b", "object": "chat.completion.chunk", "model": "bench",
            "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}) + "\n\n").encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        body = json.dumps({"data": [{"id": "r2k"}, {"id": "max80k"}]}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers.get("content-length", 0)); req = json.loads(self.rfile.read(n))
        self.send_response(200); self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked"); self.end_headers()
        def send(b):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b)); self.wfile.flush()
        if req["model"] == "r2k":
            for i in range(2000):
                send(chunk({"reasoning_content": PIECES[i % len(PIECES)] + " "})); time.sleep(0.004)
            for i in range(2000):
                send(chunk({"content": PIECES[i % len(PIECES)] + " "})); time.sleep(0.004)
        else:
            buf = b""
            for i in range(80000):
                buf += chunk({"content": PIECES[i % len(PIECES)] + " "})
                if len(buf) > 16384: send(buf); buf = b""
            if buf: send(buf)
        send(chunk({}, "stop"))
        send(b"data: " + json.dumps({"id": "b", "object": "chat.completion.chunk", "model": "bench", "choices": [],
              "usage": {"prompt_tokens": 10, "completion_tokens": 2000, "total_tokens": 4010}}).encode() + b"\n\n")
        send(b"data: [DONE]\n\n"); self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
