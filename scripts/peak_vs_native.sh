#!/bin/sh
# `tinycl peak` on a CPU device against native C on the same CPU (scripts/native_peak.c):
# ROUNDS rounds of native FMA, tinycl FMA (its best vector width), native read,
# tinycl read, back to back, each the best of 30 runs of about 20 ms; prints every
# round and the best of each figure over all rounds with the tinycl/native ratios
# (docs/performance.md).
# usage: scripts/peak_vs_native.sh [ROUNDS] [DEVICE]    (after `make build`)
set -eu
rounds=${1:-5} dev=${2:-pthread}
cc -O2 -march=native -pthread -o build/native_peak scripts/native_peak.c
best() { sort -g | tail -1; }
values() { # the value column of tinycl's CSV
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "value") v = i; next } { print $v }'
}
: >build/peak_vs_native.txt
for r in $(seq "$rounds"); do
  nf=$(build/native_peak fma | sed 's/.*: \([0-9.]*\) GFLOP.*/\1/')
  tf=$(build/tinycl peak --device "$dev" --metrics f32_fma --reps 30 --format csv 2>/dev/null | values | best)
  nr=$(build/native_peak read 256 | sed 's/.*: \([0-9.]*\) GB.*/\1/')
  tr=$(build/tinycl peak --device "$dev" --metrics read_bw --reps 30 --format csv 2>/dev/null | values)
  echo "round $r: fma native $nf tinycl $tf GFLOP/s; read native $nr tinycl $tr GB/s" | tee -a build/peak_vs_native.txt
done
nf=$(sed 's/.*fma native \([0-9.]*\) .*/\1/' build/peak_vs_native.txt | best)
tf=$(sed 's/.*fma native [0-9.]* tinycl \([0-9.]*\) .*/\1/' build/peak_vs_native.txt | best)
nr=$(sed 's/.*read native \([0-9.]*\) .*/\1/' build/peak_vs_native.txt | best)
tr=$(sed 's/.*read native [0-9.]* tinycl \([0-9.]*\) .*/\1/' build/peak_vs_native.txt | best)
echo "best of $rounds: f32 FMA native $nf, tinycl $tf GFLOP/s (ratio $(echo "$tf $nf" | awk '{printf "%.2f", $1 / $2}'));" \
  "read native $nr, tinycl $tr GB/s (ratio $(echo "$tr $nr" | awk '{printf "%.2f", $1 / $2}'))"
