#!/bin/sh
# The shared library exports exactly the functions declared in the public
# headers: nothing internal leaks out and nothing declared is missing.
# usage: check_exports.sh LIBTINYCL.so INCLUDE_DIR CC
set -eu
lib=$1 inc=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in "$inc"/tinycl/*.h; do echo "#include \"$h\""; done |
  "$cc" -E -P -I"$inc" -x c - | grep -oE '\btc_[a-z0-9_]+[[:space:]]*\(' | sed 's/[[:space:]]*($//' |
  sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRBVWiu]$/ { print $3 }' | sort -u >"$tmp/exported"
[ -s "$tmp/declared" ] || { echo "no declarations found in $inc/tinycl"; exit 1; }
if ! cmp -s "$tmp/declared" "$tmp/exported"; then
  echo "exported but not declared in include/tinycl:"; comm -13 "$tmp/declared" "$tmp/exported"
  echo "declared but not exported:"; comm -23 "$tmp/declared" "$tmp/exported"
  exit 1
fi
echo "$(wc -l <"$tmp/exported") exported symbols, all declared in include/tinycl"
