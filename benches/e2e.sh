#!/usr/bin/env bash
# End to end, as a user sees it: the release binary in a 200x50 tmux pane against a local
# streaming server (benches/sse_server.py), one prompt, until its end record is written.
# Reports wall time, CPU of the grokpair process (/proc), bytes written to the terminal
# (tmux pipe-pane), peak RSS and the session file's size.
#   cargo build --release && bash benches/e2e.sh [r2k|max80k]...
# r2k: 2,000 reasoning + 2,000 answer tokens at 250 tok/s; max80k: 80,000 answer tokens at
# the server's maximum rate. Needs tmux and python3.
set -u
cd "$(dirname "$0")/.."
PORT=${PORT:-8311}
BIN=$PWD/target/release/grokpair
[ -x "$BIN" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
python3 benches/sse_server.py "$PORT" & SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
sleep 1
for MODEL in "${@:-r2k max80k}"; do
for MODEL in $MODEL; do
cat > /tmp/e2e.toml <<T
provider = "b"
[providers.b]
base_url = "http://127.0.0.1:$PORT/v1"
api_key = "k"
model = "$MODEL"
dialect = "xai"
[sessions]
dir = "/tmp/e2e-sessions"
T
rm -rf /tmp/e2e-sessions /tmp/e2e.bytes
T="tmux -L e2e"
$T kill-server 2>/dev/null
$T -f /dev/null new-session -d -s e -x 200 -y 50 "$BIN --config /tmp/e2e.toml; sleep 60"
sleep 1
PID=$(pgrep -f "^$BIN --config /tmp/e2e.toml" | head -1)
$T pipe-pane -t e -o "cat >> /tmp/e2e.bytes"
sleep 0.5
cpu() { awk '{print $14+$15}' /proc/$PID/stat; }
c0=$(cpu); b0=$(stat -c %s /tmp/e2e.bytes 2>/dev/null || echo 0); t0=$(date +%s.%N)
$T send-keys -t e -l "go"; $T send-keys -t e Enter
# Done when the session file has its end record.
until grep -qs '"type":"end"' /tmp/e2e-sessions/*.jsonl; do sleep 0.05; done
t1=$(date +%s.%N)
sleep 1.5
c1=$(cpu); b1=$(stat -c %s /tmp/e2e.bytes)
hwm=$(grep VmHWM /proc/$PID/status | awk '{print $2}')
tck=$(getconf CLK_TCK)
python3 - <<P
cpu=($c1-$c0)/$tck; wall=$t1-$t0
print(f"$MODEL: wall to end {wall:.2f} s, CPU {cpu:.2f} s ({100*cpu/wall:.1f}% of a core over the stream), bytes to the terminal {($b1-$b0)/1024:.0f} KB, peak RSS {$hwm/1024:.1f} MB")
P
ls -la /tmp/e2e-sessions/*.jsonl | awk '{print "  session file", $5, "bytes"}'
$T kill-server
done
done
