#!/usr/bin/env bash
# The test suite: every crate's unit, snapshot and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
