#!/usr/bin/env bash
# Builds and runs scripts/own-crate/ the way a user's crate is built: copied
# outside this repository (so the workspace's .cargo/config.toml does not
# apply: only what scripts/setup.sh set up for the user does), depending on
# this checkout by path, CPU only (docs/own-crate.md). With
# TRITONC_EXPORT_BUNDLE=PATH the program also writes the kernels it
# launched, built for x86-64-v2, to PATH as a bundle (what
# scripts/runtime-only.sh launches without the compiler).
#
# It uses the workspace's Cargo.lock and target directory so that what the
# workspace already built is reused (set OWN_CRATE_TARGET_DIR to build from
# nothing, as a new user's first build does).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# Outside the repository, at a fixed place so that a second run is
# incremental.
dir="${TMPDIR:-/tmp}/tritonc-own-crate"
rm -rf "$dir"
mkdir -p "$dir"
# The guide shows kernels.rs and main.rs (its two rust blocks, in that
# order); they must be the code built here.
if ! awk '/^```rust$/ {f = 1; next} /^```$/ {f = 0} f' "$repo/docs/own-crate.md" |
    diff -q - <(cat "$repo/scripts/own-crate/src/kernels.rs" "$repo/scripts/own-crate/src/main.rs") >/dev/null; then
  echo "own-crate: docs/own-crate.md does not show scripts/own-crate/src/{kernels,main}.rs as they are" >&2
  exit 1
fi
cp -r "$repo/scripts/own-crate/." "$dir/"
sed -i "s|TRITONC_PATH|$repo|" "$dir/Cargo.toml"
cp "$repo/Cargo.lock" "$dir/Cargo.lock"
# The program runs in $dir: a relative PATH is the caller's.
if [ -n "${TRITONC_EXPORT_BUNDLE:-}" ]; then
  export TRITONC_EXPORT_BUNDLE="$(realpath -m "$TRITONC_EXPORT_BUNDLE")"
fi
cd "$dir"
echo "own-crate: building a crate that depends on tritonc, in $dir"
CARGO_TARGET_DIR="${OWN_CRATE_TARGET_DIR:-$repo/target}" cargo run --quiet
