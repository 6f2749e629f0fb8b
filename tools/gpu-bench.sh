#!/usr/bin/env bash
# One call on a Linux machine with a GPU (NVIDIA, Vulkan driver) — Node optional, Python + PyTorch for the torch side:
#   1. prepare once where npm works:  node tools/build-gpu-bench.mjs      (fills gpu-bench/, < 64 MB, see there)
#   2. on the GPU machine:             bash tools/gpu-bench.sh [--tiny] [--out DIR] [--no-torch]
# It runs: the f32 FMA ceiling probe (bench/fma.ts), the GEMM autotuner for Qwen3-0.6B's shapes and the kernel
# benchmark with % of that ceiling (bench/kernels.ts --tune), our step benchmark (`npm run bench`'s harness, when
# bundled), tools/bench_torch.py (PyTorch fp32/TF32-off and bf16 autocast, LoRA and full), and prints the markdown
# tables for BENCHMARKS.md (bench/table.ts). Everything lands in DIR (default bench-out/); nvidia-smi's GPU/driver
# line is printed first. --tiny runs toy shapes (works on SwiftShader / CPU: how the script itself is tested).
# Node: `node` on PATH if it is ≥ 20.19, else gpu-bench/node.gz unpacked to DIR. Dawn: gpu-bench/node_modules/webgpu
# (dawn.node.gz unpacked in place), else the repository's node_modules (a dev checkout).
# FORCE_BUNDLED_NODE=1 uses gpu-bench/node.gz even when a node is on PATH (how that path is tested).
set -uo pipefail
cd "$(dirname "$0")/.."
TINY=""; OUT="bench-out"; TORCH=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) TINY="--tiny" ;;
    --out) OUT="$2"; shift ;;
    --no-torch) TORCH=0 ;;
    *) echo "gpu-bench.sh: unknown argument $1 (use --tiny, --out DIR, --no-torch)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

# ---- Node ----
NODE=""
if [ -z "${FORCE_BUNDLED_NODE:-}" ] && command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  NODE="$(command -v node)"
elif [ -f gpu-bench/node.gz ]; then
  gzip -dc gpu-bench/node.gz > "$OUT/node" && chmod +x "$OUT/node" && NODE="$OUT/node"
else
  echo "gpu-bench.sh: no node ≥ 20.19 and no gpu-bench/node.gz: run node tools/build-gpu-bench.mjs first" >&2; exit 1
fi
echo "node: $NODE ($("$NODE" --version))"

# ---- our benchmarks: bundled (no npm needed) or from the sources (dev checkout) ----
if [ -f gpu-bench/dist/kernels.mjs ]; then
  D=gpu-bench/node_modules/webgpu/dist/linux-x64
  [ -f "$D/dawn.node" ] || gzip -dc "$D/dawn.node.gz" > "$D/dawn.node"
  run() { local name="$1"; shift; "$NODE" "gpu-bench/dist/$name.mjs" "$@"; }
  HAVE_STEP=$([ -f gpu-bench/dist/bench.mjs ] && echo 1 || echo 0)
else
  run() { local name="$1"; shift; local f="bench/$name.ts"; [ "$name" = bench ] && f="$STEP_TS"; "$NODE" --import tsx --import ./tools/node-hooks.mjs "$f" "$@"; }
  STEP_TS="$("$NODE" -e 'const s=require("./package.json").scripts?.bench??""; const m=/(\S+\.ts)/.exec(s); process.stdout.write(m?m[1]:"")')"
  HAVE_STEP=$([ -n "$STEP_TS" ] && [ -f "$STEP_TS" ] && echo 1 || echo 0)
fi

status=0
echo "== FMA ceiling"; run fma $TINY --json | tee "$OUT/fma.json" || status=1
echo "== GEMM autotune + kernels"; run kernels $TINY --only matmul --tune --json "$OUT/kernels.json" | tee "$OUT/kernels.txt" || status=1
if [ "$HAVE_STEP" = 1 ]; then
  echo "== step benchmark"; run bench $TINY --json "$OUT/steps.json" | tee "$OUT/steps.txt" || status=1
  # where the subgroup-matrix GEMM ran, the same steps on the tiled f32 kernel: what the matrix units bring
  if grep -q 'subgroup matrices ✓' "$OUT/steps.json" 2>/dev/null; then
    echo "== step benchmark without subgroup matrices"
    REWARD_STUDIO_FLAGS=noSubgroupMatrix run bench $TINY --json "$OUT/steps_no_sgmat.json" | tee "$OUT/steps_no_sgmat.txt" || status=1
  fi
else
  echo "== step benchmark: not in this build (no \`npm run bench\` harness yet)"
fi
if [ "$TORCH" = 1 ]; then
  echo "== PyTorch"
  if [ -n "$TINY" ]; then
    python3 tools/bench_torch.py --tiny --device cpu --lengths 16 --pairs 1 --steps 1 --warmup 1 --out "$OUT/torch.json" || status=1
  else
    python3 tools/bench_torch.py --out "$OUT/torch.json" || status=1
  fi
fi
echo "== table for BENCHMARKS.md"
NO_SGMAT=(); [ -f "$OUT/steps_no_sgmat.json" ] && NO_SGMAT=(--steps-no-sgmat "$OUT/steps_no_sgmat.json")
run table --kernels "$OUT/kernels.json" --torch "$OUT/torch.json" --steps "$OUT/steps.json" "${NO_SGMAT[@]}" | tee "$OUT/table.md"
echo "results in $OUT (status $status)"
exit $status
