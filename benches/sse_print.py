# The baseline the end-to-end benchmark measures grokpair against: the least a client can do,
# a 20-line Python SSE printer (one request, each content delta written to the terminal).
#   python3 benches/sse_print.py PORT MODEL TIMES_FILE   (writes "wall cpu" seconds there)
import http.client, json, os, sys, time

t0, c0 = time.monotonic(), time.process_time()
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
conn.request("POST", "/v1/chat/completions", json.dumps({"model": sys.argv[2], "stream": True}),
             {"content-type": "application/json"})
out = sys.stdout
for line in conn.getresponse():
    if line.startswith(b"data: {"):
        for c in json.loads(line[6:])["choices"]:
            text = c["delta"].get("content") or c["delta"].get("reasoning_content")
            if text:
                out.write(text)
                out.flush()
with open(sys.argv[3], "w") as f:
    f.write(f"{time.monotonic() - t0:.3f} {time.process_time() - c0:.3f}\n")
