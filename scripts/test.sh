#!/usr/bin/env bash
# The test suite: every crate's unit, snapshot and end-to-end tests, the
# kernel files in tests/, then a crate outside the workspace that depends
# on tritonc, built and run as a user's would be (scripts/own-crate.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
bash ./scripts/own-crate.sh
