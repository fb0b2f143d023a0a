#!/bin/sh
# The README's API example is examples/matmul.c as written (which ctest builds and
# runs), and its sample outputs have the headers the commands print.
# usage: readme.sh SOURCE_DIR TINYCL_EXECUTABLE
set -eu
src=$1 tc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the first ```c block after "## The API in brief"
sed -n '/^## The API in brief/,$p' "$src/README.md" | sed -n '/^```c$/,/^```$/p' | sed '1d;$d' |
  awk 'NR > 1 && /^```$/ { exit } { print }' >"$tmp/example.c"
if ! cmp -s "$tmp/example.c" "$src/examples/matmul.c"; then
  echo "README's API example differs from examples/matmul.c:"; diff "$tmp/example.c" "$src/examples/matmul.c"; exit 1
fi
# the first output line after each quoted command equals what the command prints first
for cmd in devices eval; do
  want=$(grep -A1 "^\\$ build/tinycl $cmd\\b" "$src/README.md" | sed -n 2p)
  got=$("$tc" $cmd | head -1)
  [ "$want" = "$got" ] || { echo "README's '$cmd' output starts '$want', tinycl prints '$got'"; exit 1; }
done
echo "README: the API example is examples/matmul.c; quoted headers match"
