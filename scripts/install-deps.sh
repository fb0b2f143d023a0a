#!/usr/bin/env bash
# Installs what tinycl needs from Debian's packages. As root it runs apt-get;
# otherwise it prints the exact command to run. Quiet when everything is there.
set -euo pipefail
# clang and libclang-rt-dev (libFuzzer, the sanitizer runtimes) build the fuzz targets (make fuzz);
# libopenblas-dev is the host baseline `openblas` (docs/design.md);
# python3-matplotlib draws the TinyMLPerf plots (scripts/plot_tinymlperf.py, tested by ctest)
pkgs=(cmake make gcc pkg-config ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd libclblast-dev libcmocka-dev
      libjson-c-dev clinfo clang libclang-rt-dev libopenblas-dev python3-matplotlib)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tinycl needs: ${missing[*]}" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
