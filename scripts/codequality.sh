#!/usr/bin/env bash
# Code-quality figures of a kernel's AMDGPU code object, counted the way
# ../shared/docs/triton-reference.md counts Triton's: disassembled
# instructions without s_nop (nor gfx11's s_code_end padding after the
# kernel), VGPRs and scratch from the metadata, 128-bit
# global loads/stores, and llvm-mca cycles of the body without branches.
#   usage: [EXTRA="--divisible all"] scripts/codequality.sh FILE.tk KERNEL "CONSTS" [TARGETS...]
set -euo pipefail
cd "$(dirname "$0")/.."
file=$1; kernel=$2; consts=$3; shift 3
targets=${*:-gfx942 gfx90a gfx1100}
T=${TRITONC:-target/debug/tritonc}
LLVM=/usr/lib/llvm-22/bin
out=$(mktemp -d)
printf '| kernel | arch | instrs | VGPR | scratch B | dword loads | 128-bit loads | 128-bit stores | llvm-mca cycles |\n|---|---|---|---|---|---|---|---|---|\n'
for t in $targets; do
  args=()
  for c in $consts; do args+=(--const "$c"); done
  $T compile "$file" --kernel "$kernel" --target "$t" "${args[@]}" ${EXTRA:-} -o "$out/k.hsaco" 2>/dev/null
  $LLVM/llvm-objdump -d --mcpu="$t" "$out/k.hsaco" | grep -E '^\s+[a-z_0-9]+(\s|$)' | grep -vE '^\s*(s_nop|s_code_end)' > "$out/dis.txt" || true
  # Keep the mnemonic and operands, drop the trailing encoding comments.
  sed -E 's/^\s+//; s/\s*\/\/.*$//' "$out/dis.txt" > "$out/body.s"
  instrs=$(wc -l < "$out/body.s")
  notes=$($LLVM/llvm-readelf --notes "$out/k.hsaco")
  vgpr=$(echo "$notes" | awk '/\.vgpr_count:/ {print $2; exit}')
  scratch=$(echo "$notes" | awk '/\.private_segment_fixed_size:/ {print $2; exit}')
  dword=$(grep -cE '^(global|buffer)_load_(dword|b32)\s' "$out/body.s" || true)
  l128=$(grep -cE '^(global|buffer)_load_dwordx4|^global_load_b128' "$out/body.s" || true)
  s128=$(grep -cE '^(global|buffer)_store_dwordx4|^global_store_b128' "$out/body.s" || true)
  grep -vE '^s_(cbranch|branch|endpgm|setpc|swappc)' "$out/body.s" > "$out/mca.s"
  cycles=$(timeout 120 $LLVM/llvm-mca -mtriple=amdgcn-amd-amdhsa -mcpu="$t" -iterations=1 "$out/mca.s" 2>/dev/null | awk '/Total Cycles:/ {print $3}' || true)
  echo "| $kernel | $t | $instrs | $vgpr | $scratch | $dword | $l128 | $s128 | ${cycles:-?} |"
done
rm -rf "$out"
