#!/usr/bin/env bash
# The test suite: every crate's unit, snapshot and end-to-end tests, the
# kernel files in tests/, then a crate outside the workspace that depends
# on tritonc, built and run as a user's would be (scripts/own-crate.sh).
#
# `--tests`: the targets with `test = true`. Cargo's default would also
# link every example into its own program (LLVM and MLIR are static:
# ~300 MB each) only to check that it builds; tests/examples.rs compiles
# them into the end-to-end test binary instead, and runs the quick ones.
# (`--lib` would also force a unit-test program for the libraries marked
# `test = false`, such as the code generator's: one more LLVM and MLIR
# link, for no test.)
set -euo pipefail
cd "$(dirname "$0")/.."
# CI builds from nothing once: incremental state and debug info are only
# disk and time there (a failing assertion still names its file:line).
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
fi
cargo test --workspace --tests
cargo test --workspace --doc --quiet
# The crate outside the workspace exports the kernels it launched as a
# bundle; a program without the compiler launches them from it and is
# checked to link no LLVM, MLIR or HIP (scripts/runtime-only.sh).
bundle="$(mktemp -d)/own-crate.tkb"
TRITONC_EXPORT_BUNDLE="$bundle" bash ./scripts/own-crate.sh
bash ./scripts/runtime-only.sh "$bundle"
rm -rf "$(dirname "$bundle")"
