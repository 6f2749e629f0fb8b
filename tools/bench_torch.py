#!/usr/bin/env python3
"""PyTorch side of the step benchmark (issue 9): the same reward-model training step as ours, in PyTorch.

A Qwen3-0.6B-shaped Qwen3ForSequenceClassification (num_labels=1) built from transformers' Qwen3Config with random
weights (nothing is downloaded), trained with the TRL RewardTrainer loss -logsigmoid(r_chosen - r_rejected) on
micro-batches of `pairs` preference pairs (2·pairs sequences of max_length real tokens, no padding):
  * mode "lora": PEFT LoRA r=16, alpha=32, dropout 0, on all linears (q,k,v,o,gate,up,down), score head trainable
  * mode "full": every parameter trainable
each with and without gradient checkpointing, in fp32 with TF32 off and in bf16 autocast (fp32 master weights),
at max_length 256/512/1024 and micro-batch 1/4/8 pairs. One step = forward + backward + AdamW step + zero_grad
(gradient accumulation 1); ms is the median of --steps timed steps after --warmup untimed ones.
Also measures torch's own fp32 matmul rate (TF32 off) at 4096³ (and bf16 for reference).

Writes a JSON object: {torch, device, config, matmul_fp32_gflops, matmul_bf16_gflops, steps: [{mode, precision,
gradient_checkpointing, max_length, pairs (= micro_batch_pairs), sequences, real_tokens, ms, tokens_per_second,
peak_memory_mb, ...}]}: the same keys as our bench's `steps` where they mean the same thing.

  python tools/bench_torch.py --out torch.json                 # a CUDA GPU, the full table
  python tools/bench_torch.py --tiny --device cpu --out t.json  # tiny config on CPU: proves the script works
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def qwen3_config(tiny):
    from transformers import Qwen3Config

    if tiny:
        dims = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, vocab_size=1000)
    else:  # Qwen3-0.6B (bench/configs/Qwen3-0.6B.config.json)
        dims = dict(hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                    num_key_value_heads=8, head_dim=128, vocab_size=151936)
    return Qwen3Config(**dims, max_position_embeddings=40960, rms_norm_eps=1e-6, rope_theta=1000000.0,
                       tie_word_embeddings=True, num_labels=1, pad_token_id=dims["vocab_size"] - 1,
                       attention_bias=False, use_cache=False)


def build_model(cfg, mode, device):
    from transformers import Qwen3ForSequenceClassification

    torch.manual_seed(0)
    model = Qwen3ForSequenceClassification(cfg).to(device=device, dtype=torch.float32)
    if mode == "lora":
        from peft import LoraConfig, get_peft_model

        lcfg = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="SEQ_CLS",
                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        model = get_peft_model(model, lcfg)
    model.train()
    return model


def matmul_rate(device, dtype, n, reps):
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def bench_step(model, cfg, device, precision, pairs, T, ckpt, warmup, steps):
    if ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_disable()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size - 1, (2 * pairs, T), generator=g).to(device)
    mask = torch.ones_like(ids)
    amp = torch.autocast(device_type=device.type, dtype=torch.bfloat16) if precision == "bf16" else torch.autocast(device_type=device.type, enabled=False)

    def step():
        with amp:
            r = model(input_ids=ids, attention_mask=mask).logits.float().squeeze(-1)
        loss = -F.logsigmoid(r[:pairs] - r[pairs:]).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(warmup):
        step()
    sync(device)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = step()
        sync(device)
        times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(times)
    tokens = 2 * pairs * T
    row = dict(precision=precision, gradient_checkpointing=ckpt, max_length=T, pairs=pairs, micro_batch_pairs=pairs,
               sequences=2 * pairs, real_tokens=tokens, rows_processed=tokens, ms=ms,
               tokens_per_second=tokens / ms * 1000, steps_timed=steps, loss=float(loss))
    if device.type == "cuda":
        row["peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    del opt
    return row


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", "--json", dest="out", default="torch.json", help="output JSON (npm run bench -- --compare FILE reads it)")
    ap.add_argument("--tiny", action="store_true", help="tiny config (hidden 64, 2 layers): a CPU smoke run")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--lengths", default="256,512,1024")
    ap.add_argument("--pairs", default="1,4,8", help="micro-batch sizes in preference pairs")
    ap.add_argument("--modes", default="lora,full")
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--checkpointing", default="0,1", help="gradient checkpointing off/on (0,1)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args(argv)

    # fp32 means fp32: no TF32 in matmuls or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    device = torch.device(args.device)
    cfg = qwen3_config(args.tiny)
    n = 256 if args.tiny else 4096
    out = dict(torch=torch.__version__, device=str(device),
               device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
               config="tiny" if args.tiny else "Qwen3-0.6B",
               matmul_fp32_gflops=matmul_rate(device, torch.float32, n, 3 if args.tiny else 20),
               matmul_bf16_gflops=matmul_rate(device, torch.bfloat16, n, 3 if args.tiny else 20),
               matmul_n=n, steps=[])
    print(f"torch {torch.__version__} on {out['device_name']}: fp32 matmul {out['matmul_fp32_gflops']:.1f} GFLOP/s "
          f"(TF32 off), bf16 {out['matmul_bf16_gflops']:.1f} GFLOP/s at {n}³", flush=True)
    print(f"{'mode':5} {'prec':5} {'ckpt':4} {'T':>5} {'pairs':>5} {'ms':>10} {'tokens/s':>10}", flush=True)
    for mode in args.modes.split(","):
        model = build_model(cfg, mode, device)
        for precision in args.precisions.split(","):
            for ckpt in [c == "1" for c in args.checkpointing.split(",")]:
                for T in [int(x) for x in args.lengths.split(",")]:
                    for pairs in [int(x) for x in args.pairs.split(",")]:
                        try:
                            row = bench_step(model, cfg, device, precision, pairs, T, ckpt, args.warmup, args.steps)
                        except torch.OutOfMemoryError:
                            row = dict(precision=precision, gradient_checkpointing=ckpt, max_length=T, pairs=pairs,
                                       micro_batch_pairs=pairs, error="out of memory")
                            if device.type == "cuda":
                                torch.cuda.empty_cache()
                        row = dict(mode=mode, **row)
                        out["steps"].append(row)
                        ms = row.get("ms", math.nan)
                        tps = row.get("tokens_per_second", math.nan)
                        print(f"{mode:5} {precision:5} {int(ckpt):4} {T:5} {pairs:5} {ms:10.1f} {tps:10.0f}"
                              + (f"  {row['error']}" if "error" in row else ""), flush=True)
                        with open(args.out, "w") as f:  # after every row: a crash keeps what was measured
                            json.dump(out, f, indent=1)
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
