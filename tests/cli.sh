#!/bin/sh
# The CLI honours its documentation: every misuse exits 2 with a message before
# any work (no output file, nothing on stdout), every command has help, and
# TINYCL_DEVICE or a --device list selects the devices of every command.
# usage: cli.sh TINYCL_EXECUTABLE
set -u
tc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# misuse: exit 2, the message on stderr, nothing done
misuse() { # pattern args...
  pat=$1; shift
  "$tc" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ $rc -eq 2 ] || bad "tinycl $* exited $rc, expected 2"
  grep -q -- "$pat" "$tmp/err" || bad "tinycl $*: stderr lacks '$pat': $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && bad "tinycl $*: printed on stdout before refusing: $(head -3 "$tmp/out")"
  [ -e "$tmp/r.json" ] && bad "tinycl $*: wrote a result file before refusing"
  rm -f "$tmp/r.json"
}
misuse "unknown command" frobnicate
misuse "usage" 
misuse "seed.*'abc'" check --seed abc
misuse "seed.*'-1'" check --seed -1
misuse "no variant 'im2col'" bench matmul --variants cpu,im2col --json "$tmp/r.json"
misuse "no variant 'warp'" check --op matmul --variant warp
misuse "unknown variant 'warp'" check --variant warp
misuse "unknown op 'matmull'" bench matmull --json "$tmp/r.json"
misuse "unknown op" check --op nope
misuse "/nonexistent/dir/r.json" bench matmul --json /nonexistent/dir/r.json
misuse "is a directory" bench matmul --out "$tmp" --json "$tmp/r.json"
misuse "/nonexistent/dir/r.csv" peak --out /nonexistent/dir/r.csv --json "$tmp/r.json"
misuse "/nonexistent/dir/r.json" peak --json /nonexistent/dir/r.json
misuse "unknown option '--frob'" eval --frob 1
misuse "--observer takes minmax|moving_avg|percentile|mse" eval --observer median
misuse "--precision takes" eval --precision f16
misuse "bad size '12x'" bench quant --sizes 64x64x64,12x --json "$tmp/r.json"
misuse "--shape takes OUTxIN" bench sparse --shape 12 --json "$tmp/r.json"
misuse "unknown option '--sizes'" peak --sizes 1 --json "$tmp/r.json"
misuse "unknown metric 'flops'" peak --metrics read_bw,flops --json "$tmp/r.json"
misuse "--sizes takes MODEL:BATCH" bench model --sizes mlp_digits --json "$tmp/r.json"
misuse "--variants takes oneshot and plan" bench model --variants fast --json "$tmp/r.json"
misuse "cannot find.*nosuch.tcw" bench model --sizes nosuch:1 --json "$tmp/r.json"
misuse "one --device" bench matmul --trace "$tmp/t.json" --device ref,pthread --json "$tmp/r.json"
misuse "--check takes" params --check maybe
misuse "--out-dtype takes" bench quant --out-dtype s4 --json "$tmp/r.json"
misuse "--sparse-format takes" bench sparse --sparse-format coo --json "$tmp/r.json"
misuse "--sparsity takes" bench sparse --sparsity 100 --json "$tmp/r.json"
misuse "needs a value" bench matmul --reps
misuse "--reps takes a whole number" bench matmul --reps ten --json "$tmp/r.json"
misuse "--reps takes a whole number" peak --reps 0 --json "$tmp/r.json"
misuse "--budget takes a positive number" bench matmul --budget -5 --json "$tmp/r.json"
misuse "--format takes" bench matmul --format xml --json "$tmp/r.json"
misuse "bad matmul size '12x'" bench matmul --sizes 64x64x64,12x --json "$tmp/r.json"
misuse "no default sizes" bench softmax --json "$tmp/r.json"
misuse "given twice" check --seed 1 --seed 2
misuse "unexpected argument" check matmul
misuse "missing OP" bench
misuse "no device matches 'nosuch'" bench matmul --device ref,nosuch --json "$tmp/r.json"
misuse "no such directory" eval --data "$tmp/none"
misuse "no readable file" eval --model "$tmp/none.tcw"
misuse "looked in" eval --data "$tmp"
m=$TINYCL_DATA_DIR/mlp_digits.tcw
misuse "--model FILE is required" compress --sparsity 0.9 --out "$tmp/r.json"
misuse "--sparsity takes a fraction in \[0, 1)" compress --model "$m" --sparsity 1.5 --out "$tmp/r.json"
misuse "--sparsity takes a fraction" compress --model "$m" --sparsity 90% --json "$tmp/r.json"
misuse "--pattern takes element|1x4|1x8|4x4" compress --model "$m" --sparsity 0.5 --pattern 2x2 --out "$tmp/r.json"
misuse "apply to unstructured pruning" compress --model "$m" --sparsity 0.5 --structured --global --out "$tmp/r.json"
misuse "apply to unstructured pruning" compress --model "$m" --sparsity 0.5 --structured --pattern 4x4 --json "$tmp/r.json"
misuse "need --sparsity" compress --model "$m" --global --out "$tmp/r.json"
misuse "no readable file" compress --model "$tmp/none.tcw" --sparsity 0.5 --out "$tmp/r.json"
misuse "--structured takes no value" compress --model "$m" --sparsity 0.5 --structured=1 --out "$tmp/r.json"
misuse "looked in" compress --model "$m" --sparsity 0.5 --data "$tmp" --out "$tmp/r.json"
misuse "one command at a time" help bench check
misuse "no command 'nope'" help nope
TINYCL_DEVICE=nosuch misuse "TINYCL_DEVICE.*no device matches 'nosuch'" check
TINYCL_DEVICE=nosuch misuse "TINYCL_DEVICE" eval
TINYCL_DEVICE=nosuch misuse "TINYCL_DEVICE" peak --json "$tmp/r.json"
TINYCL_DEVICE=nosuch misuse "TINYCL_DEVICE" devices

# help for every command, three ways; the version
"$tc" --version | grep -q "^tinycl [0-9][0-9.]* (commit [0-9a-z-]*)$" || bad "--version: $("$tc" --version)"
"$tc" --help | grep -q "^usage: tinycl <command>" || bad "--help"
for cmd in devices ops check bench "bench model" "bench quant" "bench sparse" eval compress peak params; do
  # shellcheck disable=SC2086
  "$tc" help $cmd >"$tmp/h1" && "$tc" $cmd --help >"$tmp/h2" && "$tc" $cmd -h >"$tmp/h3" ||
    bad "help for $cmd exits non-zero"
  grep -q "^usage: tinycl $cmd" "$tmp/h1" || bad "tinycl help $cmd: $(head -1 "$tmp/h1")"
  cmp -s "$tmp/h1" "$tmp/h2" && cmp -s "$tmp/h1" "$tmp/h3" || bad "help $cmd, $cmd --help and $cmd -h differ"
  "$tc" --help | grep -q "^  $cmd " || bad "'tinycl --help' does not list $cmd"
done

# ops: every op with its variants and size syntax
"$tc" ops >"$tmp/ops" || bad "ops failed"
for op in matmul conv2d softmax embedding; do
  grep -q "^$op  *variants: ref" "$tmp/ops" || bad "ops lacks $op"
done
[ "$(grep -c "sizes: " "$tmp/ops")" -ge 14 ] || bad "ops lacks size syntaxes"

# TINYCL_DEVICE and --device lists select the devices of every command
TINYCL_DEVICE=ref "$tc" check --op add >"$tmp/out" || bad "check on ref failed"
[ "$(grep -c '^device ' "$tmp/out")" -eq 1 ] && grep -q '^device ref ' "$tmp/out" || bad "check ignores TINYCL_DEVICE"
TINYCL_DEVICE=ref "$tc" bench add --sizes 10 --reps 2 --format csv >"$tmp/out" 2>/dev/null || bad "bench on ref"
[ "$(cut -d, -f3 "$tmp/out" | sort -u | tr '\n' ' ')" = "device ref " ] || bad "bench ignores TINYCL_DEVICE: $(cat "$tmp/out")"
TINYCL_DEVICE=ref,pthread "$tc" devices | grep -q "^TINYCL_DEVICE=ref,pthread selects ref, cl:" || bad "devices ignores TINYCL_DEVICE"
TINYCL_DEVICE=ref "$tc" eval >"$tmp/out" || bad "eval on ref failed"
[ "$(grep -c '_digits' "$tmp/out")" -eq 12 ] || bad "eval ignores TINYCL_DEVICE: $(cat "$tmp/out")"
TINYCL_DEVICE=pthread "$tc" bench add --sizes 10 --reps 2 --device ref,pthread --format csv >"$tmp/out" 2>/dev/null
[ "$(cut -d, -f3 "$tmp/out" | sort -u | wc -l)" -eq 3 ] || bad "--device ref,pthread: $(cat "$tmp/out")"
# openblas: selected by TINYCL_DEVICE and --device; bench records its matmul as variant openblas
TINYCL_DEVICE=openblas,ref "$tc" devices | grep -q "^TINYCL_DEVICE=openblas,ref selects openblas, ref " ||
  bad "devices ignores TINYCL_DEVICE=openblas"
"$tc" devices | grep -q "^openblas  *ref  *openblas .*host" || bad "devices lacks openblas"
TINYCL_DEVICE=openblas "$tc" check --op linear >"$tmp/out" || bad "check on openblas failed"
grep -q '^device openblas ' "$tmp/out" && grep -q '^  ok  *linear  *openblas ' "$tmp/out" ||
  bad "check on openblas: $(head -3 "$tmp/out")"
"$tc" bench matmul --sizes 33x17x65 --reps 2 --device openblas --variants auto,openblas --format csv >"$tmp/out" \
  2>/dev/null || bad "bench matmul on openblas"
[ "$(cut -d, -f2,3 "$tmp/out" | sort -u | tr '\n' ' ')" = "auto,openblas openblas,openblas variant,device " ] ||
  bad "bench matmul --device openblas: $(cat "$tmp/out")"

[ $fails -eq 0 ] && echo "cli: all checks passed"
exit $((fails != 0))
