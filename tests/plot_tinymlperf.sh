#!/bin/sh
# scripts/plot_tinymlperf.py on copies of the fixtures in tests/data: every plot of
# a full results.json is a real PNG with something drawn, and the same bytes when
# drawn again; a result without some series skips just those plots; a missing or
# malformed results.json exits 1 and bad usage 2, each with a message.
# Exits 77 (skipped) only when /usr/bin/python3 cannot import matplotlib.
# usage: plot_tinymlperf.sh SOURCE_DIR
set -eu
src=$1
py=/usr/bin/python3
plot="$py $src/scripts/plot_tinymlperf.py"
if ! $py -c "import matplotlib" 2>/dev/null; then
  echo "skipped: $py cannot import matplotlib (scripts/install-deps.sh installs python3-matplotlib)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# PNG signature, IHDR size, and a drawing: many colours, not one flat image
check_png() {
  $py - "$@" <<'PY' || exit 1
import struct, sys
import matplotlib.image as mpimg
import numpy as np
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        sys.exit(f"FAIL: {path} is not a PNG")
    w, h = struct.unpack(">II", data[16:24])
    img = mpimg.imread(path)
    colours = len(np.unique(img.reshape(-1, img.shape[-1]), axis=0))
    if w < 400 or h < 300 or len(data) < 10000 or colours < 16 or img.shape[:2] != (h, w):
        sys.exit(f"FAIL: {path}: {w}x{h}, {len(data)} bytes, {colours} colours: nothing drawn?")
    print(f"{path}: {w}x{h}, {len(data)} bytes, {colours} colours")
PY
}

mkdir "$tmp/full" "$tmp/again" "$tmp/quick"
cp "$src/tests/data/tinymlperf/results.json" "$tmp/full/"
cp "$src/tests/data/tinymlperf/results.json" "$tmp/again/"
cp "$src/tests/data/tinymlperf-quick/results.json" "$tmp/quick/"

$plot "$tmp/full" >"$tmp/out" || fail "full results: exit $?"
cat "$tmp/out"
for f in speedup kvcache sparsity roofline; do
  grep -qx "$tmp/full/$f.png" "$tmp/out" || fail "$f.png not reported"
done
check_png "$tmp/full/speedup.png" "$tmp/full/kvcache.png" "$tmp/full/sparsity.png" "$tmp/full/roofline.png"
$plot "$tmp/again" >/dev/null || fail "second run: exit $?"
for f in speedup kvcache sparsity roofline; do
  cmp -s "$tmp/full/$f.png" "$tmp/again/$f.png" || fail "$f.png differs between two runs on the same data"
done

# no kvcache series, an empty sparsity series: those two skipped, the rest drawn
$plot "$tmp/quick" >"$tmp/out" || fail "quick results: exit $?"
cat "$tmp/out"
grep -q "^kvcache.png: skipped: " "$tmp/out" || fail "kvcache.png not reported as skipped"
grep -q "^sparsity.png: skipped: " "$tmp/out" || fail "sparsity.png not reported as skipped"
[ ! -e "$tmp/quick/kvcache.png" ] && [ ! -e "$tmp/quick/sparsity.png" ] || fail "a skipped plot was written"
check_png "$tmp/quick/speedup.png" "$tmp/quick/roofline.png"

expect() { # exit-status message-regex args...: the status and a message on stderr, no PNG written
  want=$1 msg=$2
  shift 2
  rc=0
  $plot "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$tmp/out" "$tmp/err"; fail "plot $*: exit $rc, expected $want"; }
  grep -q -- "$msg" "$tmp/err" || { cat "$tmp/err"; fail "plot $*: no message matching '$msg'"; }
  [ -z "$(ls "$tmp/bad" 2>/dev/null | grep png)" ] || fail "plot $*: wrote a PNG"
  echo "exit $rc: $(tail -n 1 "$tmp/err")"
}
mkdir "$tmp/bad"
expect 1 "results.json: not found" "$tmp/bad"
printf '{"records": [' >"$tmp/bad/results.json"
expect 1 "results.json: not JSON" "$tmp/bad"
printf '[1, 2]' >"$tmp/bad/results.json"
expect 1 "expected a JSON object" "$tmp/bad"
printf '{"records": {"op": "tinymlperf"}}' >"$tmp/bad/results.json"
expect 1 "results.records: expected a list" "$tmp/bad"
printf '{"records": [{"op": "tinymlperf", "event": "mlp", "task": "digits", "entry": "f32", "device": "ref", "valid": true, "speedup_ref": {"value": "fast"}}]}' >"$tmp/bad/results.json"
expect 1 'records\[0\].speedup_ref.value: expected a number or null' "$tmp/bad"
printf '{"series": {"kvcache": [{"device": "ref", "tokens": 16}]}}' >"$tmp/bad/results.json"
expect 1 'series.kvcache\[0\]: missing "cached_ms"' "$tmp/bad"
expect 2 "usage:"
expect 2 "not a directory" "$tmp/none"
expect 2 "usage:" "$tmp/full" "$tmp/quick"
echo "plot_tinymlperf.py: ok"
