#!/usr/bin/env bash
# The main job: compile the vector-add tutorial to an AMDGPU code object,
# then run the same kernel on the CPU backend, and the code object itself
# in the machine-code emulator, and check that they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
echo "== build the compiler (cargo build -p tritonc --bins: tritonc and tritonc-compiler)"
cargo build --quiet -p tritonc --bins
T=target/debug/tritonc
OUT=target/demo
mkdir -p "$OUT"

echo "== tritonc targets"
$T targets

echo "== compile dsl-examples/vector_add.tk for gfx942 (stages in $OUT/stages)"
$T compile dsl-examples/vector_add.tk --kernel add --target gfx942 --const BLOCK=1024 \
   -o "$OUT/add.hsaco" --emit "$OUT/stages" --timings
if command -v llvm-readelf-22 >/dev/null 2>&1; then
  llvm-readelf-22 --notes "$OUT/add.hsaco" | grep -E '\.name:|\.symbol:|amdhsa.target|\.vgpr_count' || true
fi

echo "== run it on the CPU backend: out = x + y for n = 4000 (4 programs of 1024)"
$T npy create "$OUT/x.npy" --dtype f32 --len 4000 --arange
$T npy create "$OUT/y.npy" --dtype f32 --len 4000 --random 7
$T npy create "$OUT/out.npy" --dtype f32 --len 4000
$T run dsl-examples/vector_add.tk --kernel add --backend cpu --grid 4 --const BLOCK=1024 \
   --arg x=@"$OUT/x.npy" --arg y=@"$OUT/y.npy" --arg out=@"$OUT/out.npy" --arg n=4000 \
   --out out="$OUT/result.npy"
$T npy show "$OUT/y.npy"
$T npy show "$OUT/result.npy"

echo "== run the gfx942 code object itself in the machine-code emulator (no GPU needed)"
$T npy create "$OUT/out.npy" --dtype f32 --len 4000
$T run dsl-examples/vector_add.tk --kernel add --backend emu --target gfx942 --grid 4 --const BLOCK=1024 \
   --arg x=@"$OUT/x.npy" --arg y=@"$OUT/y.npy" --arg out=@"$OUT/out.npy" --arg n=4000 \
   --out out="$OUT/result-emu.npy"
cmp <(tail -c 16000 "$OUT/result.npy") <(tail -c 16000 "$OUT/result-emu.npy")
echo "the emulator's result equals the CPU backend's"
echo "demo: ok"
