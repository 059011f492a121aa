#!/usr/bin/env bash
# End to end, as a user sees it: the release binary in a 200x50 tmux pane against a local
# streaming server (benches/sse_server.py), one prompt, until the turn's end record is written.
# Per case: wall to the last token, CPU of the grokpair process (its threads' schedstat), CPU per 1k
# tokens, bytes written to the terminal (tmux pipe-pane), peak RSS (VmHWM), the session file.
#   cargo build --release && bash benches/e2e.sh [CASE...]
# Cases (default: all):
#   md5k md20k md80k  5k / 20k / 80k markdown tokens at the server's maximum rate
#   r2k               2,000 reasoning + 2,000 answer tokens at 250 tok/s
#   t400              md20k after resuming a 400-turn transcript (built once with `grokpair ask`)
#   cat80k cat20k     baseline: `cat` of the same answer text into the pane (wall, cat's CPU)
#   sse80k sse20k     baseline: the same stream, raw, from the server into the pane (curl -N)
#   py20k py80k pyr2k baseline: a 20-line Python SSE printer (benches/sse_print.py)
# RUNS=3 repeats each case (results are printed per run). Needs tmux and python3.
set -u
cd "$(dirname "$0")/.."
PORT=${PORT:-8311}
RUNS=${RUNS:-1}
BIN=$PWD/target/release/grokpair
[ -x "$BIN" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
W=$(mktemp -d /tmp/grokpair-e2e.XXXXXX)
T="tmux -L grokpair-e2e"
python3 benches/sse_server.py "$PORT" & SERVER=$!
trap '$T kill-server 2>/dev/null; kill $SERVER 2>/dev/null; rm -rf "$W"' EXIT
sleep 0.5

config() { # MODEL SESSIONS_DIR
  cat > "$W/config.toml" <<T
provider = "b"
[providers.b]
base_url = "http://127.0.0.1:$PORT/v1"
api_key = "k"
model = "$1"
dialect = "xai"
[sessions]
dir = "$2"
[agent]
tools = false
T
}

tokens() { # MODEL -> answer + reasoning tokens it streams
  case $1 in r2k) echo 4000 ;; md*k) echo $(( ${1//[!0-9]/} * 1000 )) ;; esac
}

# CPU time of a process in ns: its threads' run time (/proc/PID/task/*/schedstat), finer than
# /proc/PID/stat's 10 ms ticks, which are a fifth of a 5k-token answer.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {print s}'; }

# One TUI run: the binary in tmux, a prompt, until the session's end record; then the figures.
tui() { # CASE MODEL [ARGS...]
  local case=$1 model=$2; shift 2
  local sdir=$W/sessions-$case
  $T kill-server 2>/dev/null
  rm -f "$W/bytes"
  $T -f /dev/null new-session -d -s e -x 200 -y 50 "$BIN --config $W/config.toml $*; sleep 60"
  local pid=""
  for _ in $(seq 100); do
    pid=$(pgrep -f "^$BIN --config $W/config.toml" | head -1)
    [ -n "$pid" ] && break
    sleep 0.05
  done
  $T pipe-pane -t e -o "cat >> $W/bytes"
  sleep 1.5
  local before ends
  before=$(cat "$sdir"/*.jsonl 2>/dev/null | grep -c '"type":"end"')
  local c0 b0 t0 c1 b1 t1 hwm
  c0=$(cpu_ns "$pid"); b0=$(stat -c %s "$W/bytes" 2>/dev/null || echo 0)
  t0=$(date +%s.%N)
  $T send-keys -t e -l "go"; $T send-keys -t e Enter
  while :; do
    ends=$(cat "$sdir"/*.jsonl 2>/dev/null | grep -c '"type":"end"')
    [ "$ends" -gt "$before" ] && break
    sleep 0.02
  done
  t1=$(date +%s.%N)
  # The last frames and the end of the stream's work, then the figures.
  sleep 1
  c1=$(cpu_ns "$pid"); b1=$(stat -c %s "$W/bytes")
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  [ -n "${SHOW:-}" ] && $T capture-pane -p -t e | tail -8
  local size; size=$(stat -c %s "$(ls -t "$sdir"/*.jsonl | head -1)")
  local n; n=$(tokens "$model")
  python3 -c "
cpu=($c1-$c0)/1e9; wall=$t1-$t0; n=$n
print(f'$case: wall {wall:.2f} s · CPU {cpu:.2f} s ({100*cpu/wall:.1f}% of a core) · {1000*cpu/n*1000:.1f} ms per 1k tokens · {($b1-$b0)/1024:.0f} KB to the terminal · peak RSS {$hwm/1024:.1f} MB · session file {$size/1024:.0f} KB')"
  $T kill-server
}

# A baseline in the same pane: the command's own wall and CPU (written to $W/times).
baseline() { # CASE TOKENS COMMAND
  local case=$1 n=$2 cmd=$3
  $T kill-server 2>/dev/null
  rm -f "$W/bytes" "$W/times"
  $T -f /dev/null new-session -d -s e -x 200 -y 50 "sleep 0.8; $cmd; sleep 60"
  $T pipe-pane -t e -o "cat >> $W/bytes"
  until [ -s "$W/times" ]; do sleep 0.02; done
  sleep 0.5
  read -r wall cpu < "$W/times"
  python3 -c "
print(f'$case: wall {$wall:.2f} s · CPU {$cpu:.2f} s · {1000*$cpu/$n*1000:.1f} ms per 1k tokens · {$(stat -c %s "$W/bytes")/1024:.0f} KB to the terminal')"
  $T kill-server
}

transcript() { # a 400-turn session, built once per run of this script
  [ -d "$W/sessions-t400" ] && return
  config md300 "$W/sessions-t400"
  for i in $(seq 400); do
    "$BIN" --config "$W/config.toml" ask -q --session t400 "question $i" > /dev/null || exit 1
  done
}

CASES=${*:-md5k md20k md80k r2k t400 cat20k cat80k sse20k sse80k py20k py80k pyr2k}
for run in $(seq "$RUNS"); do
  for c in $CASES; do
    case $c in
      md*k | r2k) config "$c" "$W/sessions-$c"; tui "$c" "$c" ;;
      t400) transcript; config md20k "$W/sessions-t400"; tui t400 md20k -m md20k resume t400 ;;
      cat*k)
        python3 benches/sse_server.py --text "md${c#cat}" > "$W/text"
        baseline "$c" "$(tokens "md${c#cat}")" \
          "/usr/bin/time -o $W/t -f '%e %U %S' cat $W/text; awk '{print \$1, \$2 + \$3}' $W/t > $W/times" ;;
      sse*k)
        baseline "$c" "$(tokens "md${c#sse}")" \
          "/usr/bin/time -o $W/t -f '%e %U %S' curl -sN http://127.0.0.1:$PORT/v1/chat/completions -d '{\"model\": \"md${c#sse}\"}'; awk '{print \$1, \$2 + \$3}' $W/t > $W/times" ;;
      py*)
        m=${c#py}; [ "$m" = r2k ] || m=md$m
        baseline "$c" "$(tokens "$m")" "python3 $PWD/benches/sse_print.py $PORT $m $W/times" ;;
      *) echo "unknown case $c" >&2; exit 2 ;;
    esac
  done
done
