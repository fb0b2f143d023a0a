#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz for SECONDS (make fuzz, .ci/run): seeded
# from data/ and tests/fuzz/seeds/, the corpus growing in BUILD/corpus/<target>.
# Prints, per target, libFuzzer's executions and the cases tried by outcome; a
# finding stops the run with the input saved as BUILD/crash-*.
set -euo pipefail
build=$1 secs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
# intercept_tls_get_addr=0: as `make test` (docs/design.md, Sanitizers)
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:use_sigaltstack=0:intercept_tls_get_addr=0
export LSAN_OPTIONS=suppressions=$root/scripts/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in weights dataset ops; do
  corpus=$build/corpus/$t seeds=$build/seeds/$t
  mkdir -p "$corpus" "$seeds"
  case $t in
    weights) find "$root"/data -name '*.tcw' -size -1000k -exec cp {} "$seeds"/ \; ;; # not the 13 MB transformer (tiny_decoder.tcw stands in)
    dataset) cp "$root"/data/*.tcd "$seeds"/ ;;
  esac
  cp "$root"/tests/fuzz/seeds/$t/* "$seeds"/ 2>/dev/null || true
  # an op input is a few calls of up to ~40 bytes each; the file targets take their seeds' size
  len=(); [ $t = ops ] && len=(-max_len=256)
  echo "== fuzz_$t for ${secs} s"
  log=$build/fuzz-$t.log
  if ! (cd "$build" && tests/fuzz/fuzz_$t -max_total_time="$secs" -timeout=120 -rss_limit_mb=4096 "${len[@]}" \
          -print_final_stats=1 "corpus/$t" "seeds/$t") >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz_$t: FAILED (log: $log)"
    exit 1
  fi
  grep -E '^(fuzzing on|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$log"
  sed -n '/^cases tried, by outcome:/,$p' "$log" | grep -v '^stat::'
done
