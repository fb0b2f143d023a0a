#!/bin/sh
# A user's view: install tinycl into a fresh prefix, build examples/ against it
# with CMake (shared and static) and with pkg-config (shared and static), and
# run them: the README's matmul, the digit MLP on an application-made
# cl_context and cl_mem with the models found under share/tinycl, and the
# profiling example with its trace.
# usage: consumer.sh BUILD_DIR SOURCE_DIR CC "EXTRA_FLAGS"
set -eu
build=$1 src=$2 cc=$3 flags=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libtinycl.a)")
data=$prefix/share/tinycl
for f in mlp_digits.tcw cnn_digits.tcw digits_test.tcd; do
  [ -f "$data/$f" ] || { echo "install lacks share/tinycl/$f"; exit 1; }
done
if grep -rn "$build\|$src" "$libdir/cmake" "$libdir/pkgconfig"; then
  echo "the installed package names paths of the build machine"; exit 1
fi

run() { # binary: runs every example's check
  "$1/matmul" >"$tmp/out" || { cat "$tmp/out"; echo "$1/matmul failed"; exit 1; }
  grep -q "matches a plain C loop" "$tmp/out"
  "$1/interop_mlp" "$data" | tee "$tmp/out"
  grep -q "353/359 correct, 0 predictions differ from ref" "$tmp/out"
  rm -f "$tmp/trace.json"
  "$1/profile_model" "$tmp/trace.json" >"$tmp/out" || { cat "$tmp/out"; echo "$1/profile_model failed"; exit 1; }
  grep -q "matches a plain C forward pass" "$tmp/out" && grep -q '"traceEvents"' "$tmp/trace.json"
}
linked() { # binary want(shared|static)
  if readelf -d "$1" | grep -q "NEEDED.*libtinycl"; then got=shared; else got=static; fi
  [ "$got" = "$2" ] || { echo "$1 links tinycl $got, expected $2"; exit 1; }
}

for kind in shared static; do
  static=OFF; [ $kind = static ] && static=ON
  cmake -S "$src/examples" -B "$tmp/cmake-$kind" -DCMAKE_PREFIX_PATH="$prefix" -DTINYCL_STATIC=$static \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
  cmake --build "$tmp/cmake-$kind" >/dev/null
  linked "$tmp/cmake-$kind/interop_mlp" $kind
  run "$tmp/cmake-$kind"
  echo "cmake $kind: ok"
done

export PKG_CONFIG_PATH="$libdir/pkgconfig"
mkdir -p "$tmp/pc-shared" "$tmp/pc-static"
for ex in matmul interop_mlp profile_model; do
  # shellcheck disable=SC2046
  "$cc" $flags -o "$tmp/pc-shared/$ex" "$src/examples/$ex.c" $(pkg-config --cflags --libs tinycl) -Wl,-rpath,"$libdir" -lm
  # shellcheck disable=SC2046
  "$cc" $flags -o "$tmp/pc-static/$ex" "$src/examples/$ex.c" $(pkg-config --cflags tinycl) \
    $(pkg-config --static --libs tinycl | sed 's/-ltinycl\b/-l:libtinycl.a/') -lm
done
linked "$tmp/pc-shared/interop_mlp" shared
linked "$tmp/pc-static/interop_mlp" static
run "$tmp/pc-shared"
run "$tmp/pc-static"
echo "pkg-config shared and static: ok"
