#!/usr/bin/env bash
# Idle cost of the real TUI: starts `grokpair` in a tmux pane, lets it settle, then counts, over
# an idle window, the CPU time the process used and the bytes it wrote to the terminal (a frame
# writes bytes; no frame, no bytes). Usage: bash benches/idle.sh [SECONDS]
set -euo pipefail
secs=${1:-10}
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/grokpair
tmp=$(mktemp -d)
sock=grokpair-idle-$$
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
tmux -L "$sock" new-session -d -x 160 -y 48 \
  "env -u XAI_API_KEY XDG_CONFIG_HOME=$tmp XDG_DATA_HOME=$tmp $bin"
tmux -L "$sock" pipe-pane -o "cat > $tmp/out"
sleep 2
pid=$(tmux -L "$sock" list-panes -F '#{pane_pid}')
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
bytes() { stat -c %s "$tmp/out"; }
c0=$(cpu); b0=$(bytes)
sleep "$secs"
c1=$(cpu); b1=$(bytes)
echo "$(cat /proc/$pid/comm) (pid $pid), $(bytes) bytes written at start-up"
echo "idle for ${secs}s at 160x48: CPU $(( (c1 - c0) * 1000 / tick )) ms (resolution $((1000 / tick)) ms), $((b1 - b0)) bytes written to the terminal"
