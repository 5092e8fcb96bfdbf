#!/usr/bin/env bash
# Installs what tritonc needs on Debian/Ubuntu: LLVM/MLIR 22, lld 22 and
# its library (kernels are linked in-process), and redis-server (the
# remote-cache tests start their own), and fetches the crates. HIP is not
# needed to build: the `hip` feature loads libamdhip64 when first used.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

PKGS="llvm-22-dev libmlir-22-dev mlir-22-tools lld-22 liblld-22-dev clang-22 libpolly-22-dev libzstd-dev zlib1g-dev libxml2-dev redis-server"
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

# The build scripts of llvm-sys, mlir-sys and tblgen look for LLVM/MLIR 22
# through these variables (else through whatever `llvm-config` is on PATH,
# Debian 12's being LLVM 14). The workspace's .cargo/config.toml sets them
# inside this repository; a user's own crate that depends on tritonc needs
# them too, so they also go into cargo's user configuration
# ($CARGO_HOME/config.toml), unless TRITONC_SETUP_USER_CONFIG=0. Variables
# already set there or in the environment are left alone.
CARGO_CONFIG="${CARGO_HOME:-$HOME/.cargo}/config.toml"
if [ "${TRITONC_SETUP_USER_CONFIG:-1}" != "0" ]; then
  mkdir -p "$(dirname "$CARGO_CONFIG")"
  touch "$CARGO_CONFIG"
  added=""
  for kv in MLIR_SYS_220_PREFIX=/usr/lib/llvm-22 LLVM_SYS_221_PREFIX=/usr/lib/llvm-22 \
            TABLEGEN_220_PREFIX=/usr/lib/llvm-22; do
    k="${kv%%=*}"; v="${kv#*=}"
    grep -q "^$k *=" "$CARGO_CONFIG" || added="$added$k = \"$v\"\n"
  done
  if [ -n "$added" ]; then
    if grep -q '^\[env\]' "$CARGO_CONFIG"; then
      # Append the keys right after the existing [env] header.
      tmp="$(mktemp)"
      awk -v add="$added" '{print} /^\[env\]/ {printf "%s", add}' "$CARGO_CONFIG" > "$tmp" && mv "$tmp" "$CARGO_CONFIG"
    else
      printf '\n# Added by tritonc scripts/setup.sh: where LLVM/MLIR 22 are.\n[env]\n%b' "$added" >> "$CARGO_CONFIG"
    fi
    echo "setup: LLVM/MLIR 22 locations added to $CARGO_CONFIG (for crates that depend on tritonc)"
  fi
fi

# Nothing is built here: demo.sh builds the compiler, test.sh the tests
# (building the workspace here too linked the 300 MB compiler twice).
cargo fetch --quiet
echo "setup: ok"
