#!/bin/sh
# Writes docs/RESULTS.md from a TinyMLPerf results folder (results/<UTC time>/ of
# `make bench`): the command, machine and date of the run, its leaderboards and
# cross-device tables, and its plots (copied to docs/results/).
# usage: scripts/results_doc.sh results/<UTC time>
set -eu
dir=${1:?usage: scripts/results_doc.sh results/<UTC time>}
root=$(cd "$(dirname "$0")/.." && pwd)
for f in results.json leaderboard.md; do
  [ -f "$dir/$f" ] || { echo "results_doc.sh: $dir/$f is missing" >&2; exit 1; }
done
mkdir -p "$root/docs/results"
rm -f "$root/docs/results/"*.png
for png in speedup kvcache sparsity roofline; do
  [ -f "$dir/$png.png" ] && cp "$dir/$png.png" "$root/docs/results/$png.png"
done
meta=$(/usr/bin/python3 - "$dir/results.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["meta"]
devs = "; ".join(f"{d['name']} ({d.get('platform', '')} {d.get('driver_version', '')})".strip() for d in m["devices"])
print(f"- command: `{m['command']}`")
print(f"- tinycl {m['tinycl_version']}, commit {m['git_commit']}, {m['date']}")
print(f"- host: {m['host']['cpu_model']}, {m['host']['cores']} cores, {m['host']['os']}")
print(f"- devices: {devs}")
PY
)
{
  echo "# TinyMLPerf results"
  echo
  echo "The latest full run of \`make bench\` (\`tinycl bench tinymlperf\`), made with"
  echo "\`make bench\` and written here by \`scripts/results_doc.sh results/<UTC time>\`."
  echo "\`docs/tinymlperf.md\` explains the events, entries, statistics and gates."
  echo
  echo "$meta"
  echo
  echo "The machine is a shared 2-vCPU virtual machine: absolute times move from run to"
  echo "run; the speedups are ratios of interleaved rounds of the same run."
  echo
  echo "## Plots"
  echo
  for png in speedup kvcache sparsity roofline; do
    [ -f "$root/docs/results/$png.png" ] && echo "![$png](results/$png.png)" && echo
  done
  sed '1,/^## /{/^## /!d}' "$dir/leaderboard.md"
} >"$root/docs/RESULTS.md"
echo "wrote $root/docs/RESULTS.md and docs/results/*.png"
