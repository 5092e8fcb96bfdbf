#!/usr/bin/env bash
# Builds and runs scripts/own-crate/ the way a user's crate is built: copied
# outside this repository (so the workspace's .cargo/config.toml does not
# apply: only what scripts/setup.sh set up for the user does), depending on
# this checkout by path, CPU only (docs/own-crate.md).
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
# The guide shows main.rs (its one rust block); it must be the code built here.
if ! awk '/^```rust$/ {f = 1; next} /^```$/ {f = 0} f' "$repo/docs/own-crate.md" |
    diff -q - "$repo/scripts/own-crate/src/main.rs" >/dev/null; then
  echo "own-crate: docs/own-crate.md does not show scripts/own-crate/src/main.rs as it is" >&2
  exit 1
fi
cp -r "$repo/scripts/own-crate/." "$dir/"
sed -i "s|TRITONC_PATH|$repo|" "$dir/Cargo.toml"
cp "$repo/Cargo.lock" "$dir/Cargo.lock"
cd "$dir"
echo "own-crate: building a crate that depends on tritonc, in $dir"
CARGO_TARGET_DIR="${OWN_CRATE_TARGET_DIR:-$repo/target}" cargo run --quiet
