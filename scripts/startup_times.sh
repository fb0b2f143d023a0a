#!/bin/sh
# Time to the first result of `tinycl eval` on PoCL, cold and warm: every run gets
# an empty PoCL kernel cache (POCL_CACHE_DIR in a fresh temporary folder), so only
# tinycl's program binary cache differs (on PoCL it is used with TINYCL_CACHE=1):
#   off   TINYCL_CACHE=0 (PoCL's default)
#   cold  TINYCL_CACHE=1, an empty tinycl cache (the run writes it)
#   warm  TINYCL_CACHE=1, the cache the cold run wrote
#   pocl  TINYCL_CACHE=0 and PoCL's own cache warm (the usual second run)
# ROUNDS rounds of the three, interleaved; prints each time and the medians.
# usage: scripts/startup_times.sh [ROUNDS]    (after `make build`)
set -eu
rounds=${1:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # label env...: prints seconds from start to exit of one eval of the MLP
  label=$1; shift
  [ "$label" = pocl ] || { rm -rf "$tmp/pocl"; mkdir "$tmp/pocl"; }
  t0=$(date +%s.%N)
  env POCL_CACHE_DIR="$tmp/pocl" "$@" build/tinycl eval --device pthread --model data/mlp_digits.tcw --data data >/dev/null
  t1=$(date +%s.%N)
  echo "$label $(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}')"
}
for r in $(seq "$rounds"); do
  rm -rf "$tmp/tc"
  run off TINYCL_CACHE=0
  run pocl TINYCL_CACHE=0
  run cold TINYCL_CACHE=1 TINYCL_CACHE_DIR="$tmp/tc"
  run warm TINYCL_CACHE=1 TINYCL_CACHE_DIR="$tmp/tc"
done | tee "$tmp/times"
for label in off pocl cold warm; do
  printf "%s median %s s\n" "$label" "$(awk -v l=$label '$1 == l { print $2 }' "$tmp/times" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
done
