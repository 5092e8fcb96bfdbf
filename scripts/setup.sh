#!/usr/bin/env bash
# Installs what tritonc needs on Debian/Ubuntu: LLVM/MLIR 22, lld, HIP
# headers and runtime (for the `hip` feature), then builds the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

PKGS="llvm-22-dev libmlir-22-dev mlir-22-tools lld-22 clang-22 libpolly-22-dev libzstd-dev zlib1g-dev libxml2-dev libamdhip64-dev"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust 1.85 or newer (https://rustup.rs) and run again" >&2
  exit 1
fi

# The LLVM/MLIR locations live in .cargo/config.toml; build once so that
# the commands after this one start fast.
cargo build --workspace --quiet
echo "setup: ok"
