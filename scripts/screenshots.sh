#!/usr/bin/env bash
# Takes the README's screenshots from a real run: `pvtui demo` in tmux, keys
# sent as a person would, each screen captured with its colours and rendered
# to screenshots/NAME.png. Rerun it any time:  scripts/screenshots.sh
# Needs tmux, python3 with Pillow (installed with pip if missing) and the
# DejaVu Sans Mono font (fonts-dejavu-core).
set -euo pipefail
cd "$(dirname "$0")/.."
COLS=120 ROWS=36
OUT=screenshots
mkdir -p "$OUT"

command -v tmux >/dev/null || { echo "needs tmux (apt-get install tmux)" >&2; exit 1; }
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install --quiet pillow
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || {
  echo "needs DejaVu Sans Mono (apt-get install fonts-dejavu-core)" >&2; exit 1; }

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/pvtui
SOCK=pvtui-screenshots-$$
t() { tmux -L "$SOCK" "$@"; }
trap 't kill-server 2>/dev/null || true' EXIT

wait_for() { # text
  for _ in $(seq 1 100); do
    t capture-pane -p -t shot | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "the screen never showed: $1" >&2
  t capture-pane -p -t shot >&2
  exit 1
}
keys() { t send-keys -t shot "$@"; }
text() { t send-keys -t shot -l "$1"; }
shot() { # name
  sleep "${2:-0.6}"
  t capture-pane -e -p -N -t shot > "$OUT/$1.ans"
  python3 scripts/ansi_to_png.py "$OUT/$1.ans" "$OUT/$1.png" --cols "$COLS" --rows "$ROWS"
  rm "$OUT/$1.ans"
  echo "$OUT/$1.png"
}

t new-session -d -s shot -x "$COLS" -y "$ROWS" "env TERM=xterm-256color $BIN demo; sleep 30"
wait_for '"hello from the pvtui demo"'
sleep 4 # a few seconds of history for the sparklines
shot watches

keys j c ; shot chart
keys Escape

# Open the vault: patch the flag (the last of the demo's watches).
keys G ; sleep 0.2 ; keys e C-u ; text 1 ; keys Enter
wait_for 'THE VAULT IS OPEN'
shot patched 0.3

keys a ; text 'pvtui::demo::TICKZ + ' ; shot parse-error 1
keys C-u ; text '*(pvtui::demo::PLAYER+16)+4:u32' ; shot add-watch 1
keys Enter

keys 2 ; wait_for 'Maps (' ; shot maps 2.5
keys / ; text pvtui ; keys Enter ; shot maps-filter

# The hex view at the player struct, then follow its pointer to the inventory.
keys 3 g ; text 'pvtui::demo::PLAYER' ; keys Enter ; wait_for 'pvtui rw-p +0x' ; sleep 0.3
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do keys l; done
shot hex 0.8
keys Enter ; shot hex-follow 0.8

keys 4 / ; text 'text vault is' ; keys Enter ; wait_for 'found ·' ; shot search 0.3
keys / C-u ; text 'u32 100' ; keys Enter ; wait_for 'found ·'
keys n C-u ; text 'unchanged' ; keys Enter ; wait_for 'kept ·' ; shot scan 0.3

keys 5 ; shot write-log
keys '?' ; shot help 0.4
keys Escape

# The target exits: the banner, last values kept.
keys 1
pid=$(t capture-pane -p -t shot | sed -n 's/.*│ pid \([0-9]*\) .*/\1/p' | head -1)
kill "$pid"
wait_for 'TARGET'
shot exited 0.4
keys q
