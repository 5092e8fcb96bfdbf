#!/usr/bin/env bash
# Builds and runs scripts/runtime-only/ (docs/own-crate.md, "Shipping
# without the compiler"): tritonc without its `compiler` feature, launching
# the kernels of scripts/own-crate/ from a bundle that program exported,
# then checks that the program links no LLVM, MLIR or HIP.
#
#   TRITONC_EXPORT_BUNDLE=/tmp/k.tkb bash scripts/own-crate.sh
#   bash scripts/runtime-only.sh /tmp/k.tkb
#
# Like own-crate.sh: a copy outside this repository, depending on this
# checkout by path, with the workspace's Cargo.lock and target directory
# (RUNTIME_ONLY_TARGET_DIR to build elsewhere).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: runtime-only.sh BUNDLE (a bundle own-crate.sh wrote with TRITONC_EXPORT_BUNDLE)" >&2
  exit 2
fi
bundle="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
dir="${TMPDIR:-/tmp}/tritonc-runtime-only"
rm -rf "$dir"
mkdir -p "$dir"
# -L: src/kernels.rs is a link to scripts/own-crate/src/kernels.rs.
cp -rL "$repo/scripts/runtime-only/." "$dir/"
sed -i "s|TRITONC_PATH|$repo|" "$dir/Cargo.toml"
cp "$repo/Cargo.lock" "$dir/Cargo.lock"
cd "$dir"
target="${RUNTIME_ONLY_TARGET_DIR:-$repo/target}"
echo "runtime-only: building a crate on tritonc without the compiler, in $dir"
TRITONC_BUNDLE="$bundle" CARGO_TARGET_DIR="$target" cargo build --quiet
bin="$target/debug/runtime-only-example"
"$bin"

# What it links: no LLVM, MLIR or lld inside, no LLVM, MLIR or HIP library
# loaded at start (HIP is opened at the first use of a GPU).
fail() {
  echo "runtime-only: $*" >&2
  exit 1
}
size=$(stat -c %s "$bin")
echo "runtime-only: the binary is $((size / 1024)) KiB ($size bytes; a debug build)"
stripped="$dir/stripped"
strip -o "$stripped" "$bin"
echo "runtime-only: stripped, $(($(stat -c %s "$stripped") / 1024)) KiB"
[ "$size" -lt $((30 * 1024 * 1024)) ] || fail "the binary is over 30 MiB: does it link LLVM?"
for sym in LLVMContextCreate mlirContextCreate; do
  # Defined or referenced, dynamic or not; and the name anywhere in the file.
  if nm "$bin" 2>/dev/null | grep -q "$sym" || nm -D "$bin" 2>/dev/null | grep -q "$sym" ||
    grep -q "$sym" "$bin"; then
    fail "the binary has the symbol $sym"
  fi
done
echo "runtime-only: no LLVMContextCreate or mlirContextCreate symbol: ok"
libs=$(ldd "$bin")
if grep -Ei 'libLLVM|libMLIR|libamdhip64|liblld|libclang' <<<"$libs"; then
  fail "the binary loads the libraries above at start"
fi
echo "runtime-only: loads at start (ldd): $(awk '{print $1}' <<<"$libs" | tr '\n' ' ')"
