#!/usr/bin/env python3
"""Checks an ONNX reward model folder written by `npm run cli -- export-onnx` (or the studio's Export panel) against
the real Python stack. Not part of CI (CI has no Python); run it by hand:

    python3 tools/check_onnx.py --onnx out/tiny/onnx --model <base model dir> [--adapter out/tiny/adapter] \
        --data <pairs or records .jsonl> [--limit 64] [--batch 8]

1. `onnx.checker.check_model` (full check, by path so external data over 2 GB works) and the opsets/domains used.
2. The real `onnxruntime` (CPU EP) runs the graph on right-padded batches of the data (input_ids, attention_mask).
3. The real transformers `Qwen3ForSequenceClassification` (num_labels=1, float32, eager attention, pad_token_id as
   TRL sets it) — with the PEFT adapter applied (not merged) when --adapter is given — scores the same batches.
4. Where `optimum` is installed, `ORTModelForSequenceClassification.from_pretrained(onnx_dir)` scores them too.

Prints max |Δ| and max |Δ| / max |reward| for each comparison; exits 1 if ORT vs transformers exceeds --tol (1e-3
relative by default, as the studio's own verification; pass --tol 5e-3 for a float16 export).
Installs: pip install onnx onnxruntime transformers peft torch (from this machine's local package store).
"""

import argparse
import json
import os
import sys

import numpy as np


def read_sequences(path, tok, limit):
    """Token ids per sequence, TRL-style: conversational → apply_chat_template; text → text + eos; ids as given."""
    seqs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            for key in ("chosen", "rejected", "messages", "text", "chosen_ids", "rejected_ids", "input_ids"):
                if key not in row:
                    continue
                v = row[key]
                if key.endswith("_ids"):
                    seqs.append(list(v))
                elif isinstance(v, list):
                    if "prompt" in row and isinstance(row["prompt"], list):
                        v = row["prompt"] + v
                    seqs.append(list(tok.apply_chat_template(v, tokenize=True, add_generation_prompt=False, return_dict=False)))
                else:
                    text = (row.get("prompt") or "") + v
                    if not text.endswith(tok.eos_token):
                        text += tok.eos_token
                    seqs.append(tok(text)["input_ids"])
            if len(seqs) >= limit:
                break
    return seqs[:limit]


def batches(seqs, pad_id, size):
    for start in range(0, len(seqs), size):
        part = seqs[start:start + size]
        T = max(len(s) for s in part)
        ids = np.full((len(part), T), pad_id, dtype=np.int64)
        mask = np.zeros((len(part), T), dtype=np.int64)
        for b, s in enumerate(part):
            ids[b, :len(s)] = s
            mask[b, :len(s)] = 1
        yield ids, mask


def left_padded(seqs, pad_id):
    T = max(len(s) for s in seqs)
    ids = np.full((len(seqs), T), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), T), dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[b, T - len(s):] = s
        mask[b, T - len(s):] = 1
    return ids, mask


def compare(name, got, ref):
    d = np.abs(np.asarray(got, dtype=np.float64) - np.asarray(ref, dtype=np.float64))
    scale = max(float(np.max(np.abs(ref))), 1e-12)
    print(f"{name}: max |Δ| {d.max():.3e}, max |Δ| / max |reward| {d.max() / scale:.3e} over {len(ref)} sequences")
    return d.max() / scale


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True, help="the export folder (model.onnx, config.json, tokenizer files)")
    ap.add_argument("--model", required=True, help="the base (or fully fine-tuned) Hugging Face model folder")
    ap.add_argument("--adapter", help="the PEFT adapter folder, for a LoRA export")
    ap.add_argument("--data", required=True, help="JSONL of pairs or records")
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tol", type=float, default=1e-3)
    a = ap.parse_args()

    import onnx
    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer, Qwen3ForSequenceClassification

    model_path = os.path.join(a.onnx, "model.onnx")
    onnx.checker.check_model(model_path, full_check=True)
    m = onnx.load(model_path, load_external_data=False)
    domains = sorted({n.domain or "ai.onnx" for n in m.graph.node})
    print(f"onnx.checker: ok (onnx {onnx.__version__}); ir_version {m.ir_version}, opsets "
          f"{[(o.domain or 'ai.onnx', o.version) for o in m.opset_import]}, node domains {domains}, "
          f"{len(m.graph.node)} nodes, ops {sorted({n.op_type for n in m.graph.node})}")
    print(f"inputs {[(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input]}, "
          f"outputs {[(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]}")

    cfg = json.load(open(os.path.join(a.onnx, "config.json")))
    pad_id = cfg["pad_token_id"]
    tok = AutoTokenizer.from_pretrained(a.onnx)
    seqs = read_sequences(a.data, tok, a.limit)
    # edge cases of the pooling and the mask: pad ids inside a sequence (attended, not pooled), a sequence whose
    # real last tokens are pad ids (pools the last non-pad one), a sequence of pad ids only (pools index 0)
    s0 = seqs[0]
    seqs += [s0[:5] + [pad_id] + s0[5:], s0[:7] + [pad_id, pad_id] + s0[7:12], s0[:9] + [pad_id, pad_id], [pad_id, pad_id, pad_id]]
    print(f"{len(seqs)} sequences from {a.data} (+ 4 with pad ids inside / at the end / only), lengths {min(map(len, seqs))}..{max(map(len, seqs))}, pad_token_id {pad_id}")

    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    r_ort = np.concatenate([sess.run(["logits"], {"input_ids": i, "attention_mask": k})[0][:, 0] for i, k in batches(seqs, pad_id, a.batch)])

    model = Qwen3ForSequenceClassification.from_pretrained(a.model, num_labels=1, dtype=torch.float32, attn_implementation="eager")
    model.config.pad_token_id = pad_id  # what TRL does
    if a.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, a.adapter)
    model.eval()
    with torch.no_grad():
        r_hf = np.concatenate([model(input_ids=torch.from_numpy(i), attention_mask=torch.from_numpy(k)).logits[:, 0].numpy() for i, k in batches(seqs, pad_id, a.batch)])
        # left padding exercises the padding half of the mask (right padding never lets a pooled token see a pad)
        li, lm = left_padded(seqs[:8], pad_id)
        r_hf_left = model(input_ids=torch.from_numpy(li), attention_mask=torch.from_numpy(lm)).logits[:, 0].numpy()
        r_hf_single = np.array([model(input_ids=torch.tensor([s])).logits[0, 0].item() for s in seqs[-8:]])
    import transformers
    print(f"onnxruntime {ort.__version__}, transformers {transformers.__version__}, torch {torch.__version__}" + (", peft " + __import__("peft").__version__ if a.adapter else ""))
    print(f"rewards (first 6): ort {np.round(r_ort[:6], 5).tolist()}  transformers {np.round(r_hf[:6], 5).tolist()}")
    worst = compare("onnxruntime vs transformers" + (" + PEFT" if a.adapter else ""), r_ort, r_hf)
    r_ort_left = sess.run(["logits"], {"input_ids": li, "attention_mask": lm})[0][:, 0]
    worst = max(worst, compare("left-padded batch: onnxruntime vs transformers (padding mask)", r_ort_left, r_hf_left))
    compare("transformers padded batch vs one sequence at a time (padding invariance)", r_hf[-8:], r_hf_single)
    try:
        from optimum.onnxruntime import ORTModelForSequenceClassification
    except ImportError:
        print("optimum: not installed (ORTModelForSequenceClassification not checked)")
    else:
        om = ORTModelForSequenceClassification.from_pretrained(a.onnx)
        r_opt = np.concatenate([om(input_ids=torch.from_numpy(i), attention_mask=torch.from_numpy(k)).logits[:, 0].numpy() for i, k in batches(seqs, pad_id, a.batch)])
        worst = max(worst, compare("optimum ORTModelForSequenceClassification vs transformers", r_opt, r_hf))
    ok = worst <= a.tol
    print(("OK" if ok else "FAIL") + f": worst relative difference {worst:.3e} (tolerance {a.tol})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
