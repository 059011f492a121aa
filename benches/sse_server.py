# A minimal OpenAI-compatible streaming server for the end-to-end benchmark (benches/e2e.sh).
# The model name says what streams: "mdN" -> N markdown answer tokens at the maximum rate
# ("md5k" = 5,000), "mdN@R" -> the same at R tokens a second, "rN" -> N reasoning tokens then
# N answer tokens at 250 tok/s ("r2k"). A token is one word of tests/data/answer.md, repeated.
#   python3 benches/sse_server.py PORT        serve
#   python3 benches/sse_server.py --text md5k the answer's text (what `cat` prints for a baseline)
import http.server, json, os, re, socketserver, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
PIECES = open(os.path.join(HERE, "..", "tests", "data", "answer.md")).read().replace("\n", " \n").split(" ")


def count(s):
    return int(s[:-1]) * 1000 if s.endswith("k") else int(s)


def plan(model):
    """(reasoning tokens, answer tokens, seconds between tokens) for a model name."""
    m = re.fullmatch(r"(md|r)(\d+k?)(?:@(\d+))?", model)
    if not m:
        return 0, 20, 0.0
    n = count(m.group(2))
    if m.group(1) == "r":
        return n, n, 1 / 250
    return 0, n, 1 / int(m.group(3)) if m.group(3) else 0.0


def words(n):
    return (PIECES[i % len(PIECES)] + " " for i in range(n))


def chunk(d, finish=None):
    return ("data: " + json.dumps({"id": "b", "object": "chat.completion.chunk", "model": "bench",
            "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}) + "\n\n").encode()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        body = json.dumps({"data": [{"id": m} for m in ("r2k", "md5k", "md20k", "md80k")]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("content-length", 0))
        req = json.loads(self.rfile.read(n))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def send(b):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
            self.wfile.flush()

        reasoning, answer, gap = plan(req["model"])
        deltas = [("reasoning_content", w) for w in words(reasoning)] + [("content", w) for w in words(answer)]
        if gap:
            # Paced against the clock, so the rate holds whatever a write costs.
            t0 = time.monotonic()
            for i, (k, w) in enumerate(deltas):
                send(chunk({k: w}))
                time.sleep(max(0.0, t0 + (i + 1) * gap - time.monotonic()))
        else:
            buf = b""
            for k, w in deltas:
                buf += chunk({k: w})
                if len(buf) > 16384:
                    send(buf)
                    buf = b""
            if buf:
                send(buf)
        send(chunk({}, "stop"))
        usage = {"prompt_tokens": 10, "completion_tokens": answer, "total_tokens": 10 + reasoning + answer,
                 "completion_tokens_details": {"reasoning_tokens": reasoning}}
        send(b"data: " + json.dumps({"id": "b", "object": "chat.completion.chunk", "model": "bench",
                                     "choices": [], "usage": usage}).encode() + b"\n\n")
        send(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    if sys.argv[1] == "--text":
        sys.stdout.write("".join(words(plan(sys.argv[2])[1])))
    else:
        S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
