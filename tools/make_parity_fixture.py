#!/usr/bin/python3
"""Writes the PyTorch parity fixture for the reward-model engine: tests/fixtures/parity/.

A tiny model with Qwen3ForSequenceClassification's exact structure, written in plain torch (Debian's python3-torch;
transformers, peft and trl are not installed) line by line after transformers' modeling_qwen3.py, PEFT's LoRA layer
and TRL's RewardTrainer.compute_loss. It records, in the spirit of llm.c's reference state: the inputs, the hidden
states, the rewards, the loss (four loss variants), the gradient of every trainable tensor for full fine-tuning and
for LoRA, and 10 steps of AdamW + linear warmup schedule + gradient clipping as HF's Trainer runs them.

Precision: every computation runs in float64, starting from weights that are exactly representable in float32 (the
weights are drawn, rounded to f32, then promoted). So the fixture is the exact math of the f32 model up to float64
rounding (~1e-16 relative): a float32 GPU implementation is compared against the math itself, and its own rounding is
the only error the tests see. The same computation is also run in float32 (torch CPU) and the observed f32-vs-f64
deviations are recorded in meta.json as a guide for tolerances.

Run: /usr/bin/python3 tools/make_parity_fixture.py   (deterministic; rewrites the fixture files)
Layout and tensor names: see meta.json (written by this script) and tests/fixtures/parity/load.ts.
"""

import json
import math
import os
import struct

import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "parity")

# ---------------------------------------------------------------------------------------------------------------------
# Configuration: a Qwen3 config.json with the tiny sizes (field names and extra fields as Qwen/Qwen3-0.6B's).
CONFIG = {
    "architectures": ["Qwen3ForSequenceClassification"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "head_dim": 32,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 128,
    "max_position_embeddings": 40960,
    "max_window_layers": 2,
    "model_type": "qwen3",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "num_labels": 1,
    "pad_token_id": 151643,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    "sliding_window": None,
    "tie_word_embeddings": True,
    "torch_dtype": "float32",
    "use_cache": False,
    "use_sliding_window": False,
    "vocab_size": 151936,
}
C = CONFIG["hidden_size"]
F = CONFIG["intermediate_size"]
L = CONFIG["num_hidden_layers"]
H = CONFIG["num_attention_heads"]
HKV = CONFIG["num_key_value_heads"]
D = CONFIG["head_dim"]
EPS = CONFIG["rms_norm_eps"]
THETA = CONFIG["rope_theta"]
PAD = CONFIG["pad_token_id"]

LORA = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}
LORA_SCALE = LORA["lora_alpha"] / LORA["r"]  # use_rslora false
CENTER = 0.01  # center_rewards_coefficient in the variants that use it
MAIN_VARIANT = "margin_center"  # the loss used for the gradients and the training steps
# max_grad_norm 3.0, not HF's default 1.0: the pre-clip norms of these runs go from 5.7 down to 2.1 (full) and from 3.1
# to 2.7 (LoRA), so 3.0 clips some steps and not others and both branches of clip_grad_norm_ are exercised.
TRAIN = {"steps": 10, "learning_rate": 1e-3, "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8,
         "weight_decay": 0.01, "lr_scheduler_type": "linear", "warmup_steps": 3, "max_grad_norm": 3.0}

# Chat-template ids from /work/shared/REFERENCE.md: "What is 2+2?" → "4" (the pooled token is the final "\n", 198).
CHAT_IDS = [151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668,
            271, 19, 151645, 198]
T = 24  # padded length


def f32(t):
    """Rounds through float32 and back to float64: the stored f32 value is exactly what the reference used."""
    return t.to(torch.float32).to(torch.float64)


# ---------------------------------------------------------------------------------------------------------------------
# Inputs: P = 3 pairs → B = 6 sequences, chosen first then rejected (TRL's DataCollatorForPreference order), right-padded
# with the pad id. attention_mask comes from the lengths, not from ids != pad (TRL builds it from ones per sequence), so
# chosen[1] holds a pad id *inside* its real tokens: it is attended like any token and only the rightmost non-pad token
# is pooled.
def make_inputs(gen):
    def rand_ids(n):
        return torch.randint(0, 151643, (n,), generator=gen).tolist()  # ordinary (non-special) vocabulary ids

    c1 = rand_ids(17)
    c1[5] = PAD
    c1[16] = 198  # last real token is not pad
    r0 = CHAT_IDS[:19] + rand_ids(4) + [198]  # length 24: no padding at all
    seqs = [
        CHAT_IDS,            # chosen 0: the chat template, length 22
        c1,                  # chosen 1: length 17, interior pad id at position 5
        rand_ids(2),         # chosen 2: length 2
        r0,                  # rejected 0: length 24
        rand_ids(1),         # rejected 1: length 1
        rand_ids(11),        # rejected 2: length 11
    ]
    lengths = [len(s) for s in seqs]
    assert max(lengths) == T
    ids = torch.full((len(seqs), T), PAD, dtype=torch.int64)
    for b, s in enumerate(seqs):
        ids[b, : len(s)] = torch.tensor(s)
    margins = torch.tensor([0.5, -0.25, 1.0], dtype=torch.float32).to(torch.float64)  # f32 like TRL's collator
    return ids, torch.tensor(lengths), margins


# ---------------------------------------------------------------------------------------------------------------------
# Weights. HF names; shapes (out, in). Linear weights normal(0, 0.02); norm weights 1 + 0.1·normal (non-trivial norm
# gradients); embedding rows normal(0, 0.02) for the ids the batch uses only (the other rows are zero and never read).
def make_weights(gen, embed_ids):
    def normal(*shape, std=0.02):
        return f32(torch.randn(*shape, generator=gen, dtype=torch.float64) * std)

    def norm_w(n):
        return f32(1.0 + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64))

    w = {"model.embed_tokens.weight.rows": normal(len(embed_ids), C)}
    for i in range(L):
        p = f"model.layers.{i}."
        w[p + "self_attn.q_proj.weight"] = normal(H * D, C)
        w[p + "self_attn.k_proj.weight"] = normal(HKV * D, C)
        w[p + "self_attn.v_proj.weight"] = normal(HKV * D, C)
        w[p + "self_attn.o_proj.weight"] = normal(C, H * D)
        w[p + "self_attn.q_norm.weight"] = norm_w(D)
        w[p + "self_attn.k_norm.weight"] = norm_w(D)
        w[p + "mlp.gate_proj.weight"] = normal(F, C)
        w[p + "mlp.up_proj.weight"] = normal(F, C)
        w[p + "mlp.down_proj.weight"] = normal(C, F)
        w[p + "input_layernorm.weight"] = norm_w(C)
        w[p + "post_attention_layernorm.weight"] = norm_w(C)
    w["model.norm.weight"] = norm_w(C)
    w["score.weight"] = normal(1, C)
    return w


LORA_MODULES = {  # module → (HF path inside a layer, in, out)
    "q_proj": ("self_attn.q_proj", C, H * D),
    "k_proj": ("self_attn.k_proj", C, HKV * D),
    "v_proj": ("self_attn.v_proj", C, HKV * D),
    "o_proj": ("self_attn.o_proj", H * D, C),
    "gate_proj": ("mlp.gate_proj", C, F),
    "up_proj": ("mlp.up_proj", C, F),
    "down_proj": ("mlp.down_proj", F, C),
}


def lora_key(i, module, ab):
    """PEFT adapter_model.safetensors key (adapter name dropped)."""
    return f"base_model.model.model.layers.{i}.{LORA_MODULES[module][0]}.lora_{ab}.weight"


def make_lora(seed):
    """A: kaiming_uniform_(a=√5) as PEFT's reset_lora_parameters (bound 1/√in). B: normal(0, 0.05) — NOT PEFT's
    zeros — so that dA ≠ 0 in the gradient check; the training run starts from B = 0 as PEFT does."""
    torch.manual_seed(seed)
    lora = {}
    for i in range(L):
        for m in LORA["target_modules"]:
            _, fan_in, fan_out = LORA_MODULES[m]
            a = torch.empty(LORA["r"], fan_in, dtype=torch.float64)
            torch.nn.init.kaiming_uniform_(a, a=math.sqrt(5))
            lora[lora_key(i, m, "A")] = f32(a)
            lora[lora_key(i, m, "B")] = f32(torch.randn(fan_out, LORA["r"], dtype=torch.float64) * 0.05)
    return lora


# ---------------------------------------------------------------------------------------------------------------------
# The model: transformers' modeling_qwen3.py, eager attention, in plain torch.
def rms_norm(x, weight):
    # Qwen3RMSNorm: in f32 (here: the working dtype), x · rsqrt(mean(x²) + eps), then weight · x.
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + EPS))


def rope_cos_sin(dtype):
    # Qwen3RotaryEmbedding: inv_freq = 1 / θ^(arange(0, D, 2)/D) in f32, angles for positions 0..T−1 in f32,
    # emb = cat(freqs, freqs); cos/sin cast to the activation dtype.
    inv_freq = 1.0 / (THETA ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))  # (D/2,) f32
    pos = torch.arange(T, dtype=torch.float32)
    freqs = pos[:, None] * inv_freq[None, :]  # (T, D/2) f32
    emb = torch.cat((freqs, freqs), dim=-1)  # (T, D)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), dim=-1)


def linear(x, w, name, lora):
    """nn.Linear without bias, plus PEFT's LoRA term when `name` is adapted: y = x Wᵀ + scale · (x Aᵀ) Bᵀ."""
    y = x @ w.t()
    if lora is not None and name in lora["modules"]:
        a, b = lora["modules"][name]
        y = y + ((x @ a.t()) @ b.t()) * LORA_SCALE  # lora_dropout 0 → identity
    return y


def forward(w, embed_rows, ids, lengths, lora=None, trace=None):
    """Returns rewards (B,). w: name → tensor; embed_rows (U, C) holds the rows for `row_of[id]`."""
    B = ids.shape[0]
    dtype = embed_rows.dtype
    h = embed_rows[ROW_INDEX[ids]]  # (B, T, C)
    if trace is not None:
        trace["hidden.embed"] = h
    cos, sin = rope_cos_sin(dtype)  # (T, D)
    # Additive mask (B, 1, T, T): causal and key padding (attention_mask from lengths), finfo.min like transformers.
    key_ok = torch.arange(T)[None, :] < lengths[:, None]  # (B, T)
    causal = torch.arange(T)[None, :] <= torch.arange(T)[:, None]  # (Tq, Tk)
    allowed = causal[None, :, :] & key_ok[:, None, :]  # (B, Tq, Tk)
    mask = torch.zeros(B, 1, T, T, dtype=dtype).masked_fill(~allowed[:, None], torch.finfo(dtype).min)
    # With right padding every query row sees key 0 (lengths ≥ 1), so no row is fully masked (transformers' eager path
    # would give a uniform softmax over finfo.min scores there; it never happens here).
    assert bool(allowed.any(-1).all())
    for i in range(L):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"])  # (B, T, C)
        q = linear(x, w[p + "self_attn.q_proj.weight"], (i, "q_proj"), lora).view(B, T, H, D)
        k = linear(x, w[p + "self_attn.k_proj.weight"], (i, "k_proj"), lora).view(B, T, HKV, D)
        v = linear(x, w[p + "self_attn.v_proj.weight"], (i, "v_proj"), lora).view(B, T, HKV, D)
        q = rms_norm(q, w[p + "self_attn.q_norm.weight"]).transpose(1, 2)  # (B, H, T, D)
        k = rms_norm(k, w[p + "self_attn.k_norm.weight"]).transpose(1, 2)  # (B, Hkv, T, D)
        v = v.transpose(1, 2)  # (B, Hkv, T, D)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # repeat_kv: query head h reads kv head h // (H / Hkv).
        k = k.repeat_interleave(H // HKV, dim=1)  # (B, H, T, D)
        v = v.repeat_interleave(H // HKV, dim=1)
        scores = (q @ k.transpose(2, 3)) * D ** -0.5 + mask  # (B, H, T, T)
        probs = torch.softmax(scores, dim=-1)  # eager: softmax in f32, i.e. the working dtype here
        att = (probs @ v).transpose(1, 2).reshape(B, T, H * D)  # (B, T, H·D)
        h = h + linear(att, w[p + "self_attn.o_proj.weight"], (i, "o_proj"), lora)
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"])
        g = linear(x, w[p + "mlp.gate_proj.weight"], (i, "gate_proj"), lora)
        u = linear(x, w[p + "mlp.up_proj.weight"], (i, "up_proj"), lora)
        h = h + linear(torch.nn.functional.silu(g) * u, w[p + "mlp.down_proj.weight"], (i, "down_proj"), lora)
        if trace is not None:
            trace[f"hidden.layer{i}"] = h
    h = rms_norm(h, w["model.norm.weight"])  # (B, T, C)
    if trace is not None:
        trace["hidden.final_norm"] = h
    logits = h @ w["score.weight"].t()  # (B, T, 1)
    # GenericForSequenceClassification: rightmost token whose id ≠ pad_token_id.
    last = (torch.arange(T)[None, :] * (ids != PAD).int()).argmax(-1)  # (B,)
    if trace is not None:
        trace["pooled_index"] = last
    return logits[torch.arange(B), last, 0]  # (B,)


def reward_loss(rewards, margins, variant):
    """TRL RewardTrainer.compute_loss: −mean(logsigmoid(r_c − r_r − margin)) + c · mean((r_c + r_r)²)."""
    rc, rr = torch.chunk(rewards, 2)
    d = rc - rr - (margins if "margin" in variant else 0.0)
    loss = -torch.nn.functional.logsigmoid(d).mean()
    if "center" in variant:
        loss = loss + CENTER * torch.mean((rc + rr) ** 2)
    return loss


# ---------------------------------------------------------------------------------------------------------------------
def hf_decays(name):
    """HF Trainer.get_decay_parameter_names (current transformers): get_parameter_names(model, [nn.LayerNorm],
    ["bias", "layernorm", "rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]) — regex search on the lower-cased
    full parameter name; Qwen3RMSNorm is not an nn.LayerNorm. So no Qwen3 norm weight is decayed (input_layernorm,
    post_attention_layernorm, q_norm, k_norm, model.norm); tools/make_trainer_fixture.py checks this against the real
    Trainer."""
    import re
    n = name.lower()
    return not any(re.search(p, n) for p in ("bias", "layernorm", "rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"))


def linear_lambda(step):
    """get_linear_schedule_with_warmup's lr_lambda."""
    warm, total = TRAIN["warmup_steps"], TRAIN["steps"]
    if step < warm:
        return float(step) / float(max(1, warm))
    return max(0.0, float(total - step) / float(max(1, total - warm)))


def train(params, loss_fn):
    """HF Trainer's step with one micro-batch: backward, clip_grad_norm_, AdamW.step, scheduler.step, zero_grad.
    params: list of (name, tensor requiring grad). Returns per-step loss, pre-clip grad norm, learning rate used."""
    decay = [p for n, p in params if hf_decays(n)]
    no_decay = [p for n, p in params if not hf_decays(n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": TRAIN["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=TRAIN["learning_rate"], betas=(TRAIN["adam_beta1"], TRAIN["adam_beta2"]), eps=TRAIN["adam_epsilon"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_lambda)
    losses, norms, lrs = [], [], []
    for _ in range(TRAIN["steps"]):
        loss = loss_fn()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for _, p in params], TRAIN["max_grad_norm"])
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        norms.append(norm.item())
    return losses, norms, lrs


# ---------------------------------------------------------------------------------------------------------------------
def run(dtype, weights, lora_init, ids, lengths, margins):
    """Everything the fixture records, computed in `dtype` from the same (f32-representable) values."""
    out = {}
    w = {n: t.to(dtype) for n, t in weights.items()}
    marg = margins.to(dtype)

    # Forward with the base model + loss variants (loss and dL/dr per variant).
    trace = {}
    rewards = forward(w, w["model.embed_tokens.weight.rows"], ids, lengths, trace=trace)
    out["rewards"] = rewards.detach()
    for k in ("hidden.embed", "hidden.layer0", "hidden.layer1", "hidden.final_norm"):
        out[k] = trace[k].detach()
    out["pooled_index"] = trace["pooled_index"]
    for variant in ("plain", "margin", "center", "margin_center"):
        r = rewards.detach().clone().requires_grad_(True)
        loss = reward_loss(r, marg, variant)
        loss.backward()
        out[f"loss.{variant}"] = loss.detach().reshape(1)
        out[f"drewards.{variant}"] = r.grad.detach()

    # (a) Full fine-tuning gradients: every weight, the used embedding rows included.
    wf = {n: t.clone().requires_grad_(True) for n, t in w.items()}
    loss = reward_loss(forward(wf, wf["model.embed_tokens.weight.rows"], ids, lengths), marg, MAIN_VARIANT)
    loss.backward()
    out["full.loss"] = loss.detach().reshape(1)
    out["full.grads"] = {n: t.grad.detach() for n, t in wf.items()}

    # (b) LoRA gradients, B random (nonzero): trainable = every lora_A, lora_B and score.weight.
    def lora_of(tensors):
        return {"modules": {(i, m): (tensors[lora_key(i, m, "A")], tensors[lora_key(i, m, "B")])
                            for i in range(L) for m in LORA["target_modules"]}}

    lt = {n: t.to(dtype).clone().requires_grad_(True) for n, t in lora_init.items()}
    score = w["score.weight"].clone().requires_grad_(True)
    wl = dict(w, **{"score.weight": score})
    rewards_lora = forward(wl, w["model.embed_tokens.weight.rows"], ids, lengths, lora=lora_of(lt))
    loss = reward_loss(rewards_lora, marg, MAIN_VARIANT)
    loss.backward()
    out["lora.rewards"] = rewards_lora.detach()
    out["lora.loss"] = loss.detach().reshape(1)
    out["lora.grads"] = {n: t.grad.detach() for n, t in lt.items()}
    out["lora.grads"]["base_model.model.score.weight"] = score.grad.detach()

    # (c) 10 AdamW steps, full fine-tuning.
    wt = {n: t.clone().requires_grad_(True) for n, t in w.items()}
    names = [n for n in HF_ORDER]  # named_parameters order; the embedding rows stand for model.embed_tokens.weight
    params = [(n, wt[n if n != "model.embed_tokens.weight" else "model.embed_tokens.weight.rows"]) for n in names]
    losses, norms, lrs = train(params, lambda: reward_loss(
        forward(wt, wt["model.embed_tokens.weight.rows"], ids, lengths), marg, MAIN_VARIANT))
    out["train.full"] = {"loss": losses, "grad_norm": norms, "learning_rate": lrs,
                         "final": {n: wt[n].detach() for n in FULL_FINAL}}

    # (c) 10 AdamW steps, LoRA from PEFT's init (A kaiming-uniform as above, B = 0), score trained in full.
    lt2 = {}
    for n, t in lora_init.items():
        v = t.to(dtype).clone() if ".lora_A." in n else torch.zeros_like(t, dtype=dtype)
        lt2[n] = v.requires_grad_(True)
    score2 = w["score.weight"].clone().requires_grad_(True)
    wl2 = dict(w, **{"score.weight": score2})
    # Names as the PEFT model's named_parameters (adapter name "default"); they only decide the decay group.
    params = [(n[: -len(".weight")] + ".default.weight", t) for n, t in lt2.items()] + [
        ("base_model.model.score.modules_to_save.default.weight", score2)]
    losses, norms, lrs = train(params, lambda: reward_loss(
        forward(wl2, w["model.embed_tokens.weight.rows"], ids, lengths, lora=lora_of(lt2)), marg, MAIN_VARIANT))
    final = {n: lt2[n].detach() for n in LORA_FINAL if n in lt2}
    final["base_model.model.score.weight"] = score2.detach()
    out["train.lora"] = {"loss": losses, "grad_norm": norms, "learning_rate": lrs, "final": final}
    return out


HF_ORDER = ["model.embed_tokens.weight"] + [
    f"model.layers.{i}.{s}" for i in range(L) for s in (
        "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
        "self_attn.q_norm.weight", "self_attn.k_norm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
        "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight")
] + ["model.norm.weight", "score.weight"]
FULL_FINAL = ["model.embed_tokens.weight.rows", "model.layers.0.self_attn.q_proj.weight",
              "model.layers.0.input_layernorm.weight", "model.layers.1.self_attn.k_norm.weight",
              "model.layers.1.mlp.down_proj.weight", "model.norm.weight", "score.weight"]
LORA_FINAL = [lora_key(0, "q_proj", "A"), lora_key(0, "q_proj", "B"), lora_key(1, "down_proj", "A"),
              lora_key(1, "down_proj", "B")]


# ---------------------------------------------------------------------------------------------------------------------
# safetensors, by hand: u64 LE header length, JSON header (padded with spaces to a multiple of 8), raw LE data.
DTYPES = {torch.float64: ("F64", "<d"), torch.float32: ("F32", "<f"), torch.int32: ("I32", "<i")}


def write_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, t in tensors.items():  # insertion order = data order
        t = t.detach().contiguous().cpu()
        dt, fmt = DTYPES[t.dtype]
        flat = t.reshape(-1).tolist()
        data = struct.pack("<%d%s" % (len(flat), fmt[1]), *flat)
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    return os.path.getsize(path)


def max_dev(a, b):
    """(max |a − b|, max |a − b| / (|b| + 1e-30 over max |b|·1e-3)) as a rough guide."""
    a, b = torch.as_tensor(a, dtype=torch.float64).reshape(-1), torch.as_tensor(b, dtype=torch.float64).reshape(-1)
    diff = (a - b).abs()
    scale = b.abs().max().item()
    rel = (diff / (b.abs() + 1e-3 * scale + 1e-300)).max().item()
    return {"max_abs": diff.max().item(), "max_rel_floor_1e-3_of_max": rel, "max_abs_ref": scale}


def main():
    gen = torch.Generator().manual_seed(20240601)
    ids, lengths, margins = make_inputs(gen)
    embed_ids = sorted(set(ids.reshape(-1).tolist()))
    global ROW_INDEX
    ROW_INDEX = torch.zeros(CONFIG["vocab_size"], dtype=torch.int64)
    ROW_INDEX[torch.tensor(embed_ids)] = torch.arange(len(embed_ids))
    weights = make_weights(gen, embed_ids)
    lora_init = make_lora(7)

    ref = run(torch.float64, weights, lora_init, ids, lengths, margins)
    r32 = run(torch.float32, weights, lora_init, ids, lengths, margins)

    os.makedirs(OUT_DIR, exist_ok=True)
    sizes = {}
    i32 = torch.int32
    sizes["inputs.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "inputs.safetensors"), {
        "input_ids": ids.to(i32), "lengths": lengths.to(i32), "margin": margins.to(torch.float32),
        "embed_ids": torch.tensor(embed_ids, dtype=i32), "pooled_index": ref["pooled_index"].to(i32)})
    sizes["model.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "model.safetensors"), {
        ("model.embed_tokens.weight.rows" if n == "model.embed_tokens.weight" else n):
            weights["model.embed_tokens.weight.rows" if n == "model.embed_tokens.weight" else n].to(torch.float32)
        for n in HF_ORDER})
    sizes["lora_init.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "lora_init.safetensors"),
                                                       {n: t.to(torch.float32) for n, t in lora_init.items()})
    forward_t = {"rewards": ref["rewards"], "lora.rewards": ref["lora.rewards"], "full.loss": ref["full.loss"],
                 "lora.loss": ref["lora.loss"]}
    for k in ("hidden.embed", "hidden.layer0", "hidden.layer1", "hidden.final_norm"):
        forward_t[k] = ref[k]
    for variant in ("plain", "margin", "center", "margin_center"):
        forward_t[f"loss.{variant}"] = ref[f"loss.{variant}"]
        forward_t[f"drewards.{variant}"] = ref[f"drewards.{variant}"]
    sizes["forward.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "forward.safetensors"), forward_t)
    sizes["grads_full.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "grads_full.safetensors"),
                                                        ref["full.grads"])
    sizes["grads_lora.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "grads_lora.safetensors"),
                                                        ref["lora.grads"])
    train_t = {}
    for mode in ("full", "lora"):
        tr = ref[f"train.{mode}"]
        for k in ("loss", "grad_norm", "learning_rate"):
            train_t[f"{mode}.{k}"] = torch.tensor(tr[k], dtype=torch.float64)
        for n, t in tr["final"].items():
            train_t[f"{mode}.final.{n}"] = t
    sizes["train.safetensors"] = write_safetensors(os.path.join(OUT_DIR, "train.safetensors"), train_t)

    # Observed f32-vs-f64 deviations (torch CPU float32 against the float64 reference): a guide for tolerances.
    dev = {"rewards": max_dev(r32["rewards"], ref["rewards"]),
           "lora.rewards": max_dev(r32["lora.rewards"], ref["lora.rewards"]),
           "full.loss": max_dev(r32["full.loss"], ref["full.loss"]),
           "full.grads": {n: max_dev(r32["full.grads"][n], g) for n, g in ref["full.grads"].items()},
           "lora.grads": {n: max_dev(r32["lora.grads"][n], g) for n, g in ref["lora.grads"].items()}}
    for mode in ("full", "lora"):
        dev[f"train.{mode}.loss"] = max_dev(r32[f"train.{mode}"]["loss"], ref[f"train.{mode}"]["loss"])
        dev[f"train.{mode}.grad_norm"] = max_dev(r32[f"train.{mode}"]["grad_norm"], ref[f"train.{mode}"]["grad_norm"])
        dev[f"train.{mode}.final"] = {n: max_dev(r32[f"train.{mode}"]["final"][n], t)
                                      for n, t in ref[f"train.{mode}"]["final"].items()}

    meta = {
        "about": "PyTorch parity fixture for Reward Studio's engine, written by tools/make_parity_fixture.py. "
                 "All reference values were computed in float64 from float32-representable weights and inputs.",
        "config": CONFIG,
        "dims": {"B": int(ids.shape[0]), "P": int(ids.shape[0]) // 2, "T": T, "C": C, "F": F, "H": H, "Hkv": HKV,
                 "D": D, "L": L, "V": CONFIG["vocab_size"], "U": len(embed_ids), "R": LORA["r"]},
        "inputs": {
            "order": "rows 0..P-1 are the chosen sequences, rows P..2P-1 the rejected ones (TRL's collator order)",
            "padding": "right-padded with pad_token_id 151643; attention_mask[b, t] = t < lengths[b] (TRL builds it "
                       "from the lengths, not from ids != pad); chosen row 1 holds the pad id at position 5 inside "
                       "its real tokens, attended like any other token",
            "positions": "0..T-1 for every row (transformers does not skip padding)",
            "pooling": "rightmost t with input_ids[b, t] != pad_token_id (pooled_index in inputs.safetensors)",
            "margin": "float32 per pair, used by the loss variants with 'margin'",
            "chat_template_row": "chosen row 0 is the REFERENCE.md chat-template example (22 ids)",
        },
        "embedding": "model.safetensors holds only the rows of the ids in inputs.safetensors 'embed_ids' (sorted "
                     "ascending) as 'model.embed_tokens.weight.rows' [U, C]; every other row of the [V, C] "
                     "embedding is zero and never read. grads_full holds the gradient of those rows under the same "
                     "name; the other rows' gradients are zero.",
        "weights": "float32, HF names and (out, in) shapes; linear weights normal(0, 0.02), RMSNorm weights "
                   "1 + 0.1·normal, score normal(0, 0.02); seeded (torch.Generator seed 20240601).",
        "lora": dict(LORA, scale=LORA_SCALE, use_rslora=False, task_type="SEQ_CLS",
                     init="lora_init.safetensors: lora_A = kaiming_uniform_(a=sqrt(5)) as PEFT (bound 1/sqrt(in)); "
                          "lora_B = normal(0, 0.05), NOT PEFT's zeros, so that the gradient check has dA != 0. The "
                          "LoRA training run starts from the same lora_A and lora_B = 0 (PEFT's init).",
                     keys="PEFT adapter_model.safetensors names, e.g. " + lora_key(0, "q_proj", "A") +
                          " [R, in], lora_B [out, R]; the score head (trained in full) is "
                          "base_model.model.score.weight [1, C]"),
        "loss": {"variants": {"plain": "-mean(logsigmoid(rc - rr))",
                              "margin": "-mean(logsigmoid(rc - rr - margin))",
                              "center": "plain + 0.01 * mean((rc + rr)^2)",
                              "margin_center": "margin + 0.01 * mean((rc + rr)^2)"},
                 "main_variant": MAIN_VARIANT,
                 "note": "forward.safetensors holds loss.<variant> and drewards.<variant> (dL/dr, [2P]) for the base "
                         "model's rewards; the gradients and the training runs use main_variant."},
        "files": {
            "inputs.safetensors": "input_ids I32 [B,T], lengths I32 [B], margin F32 [P], embed_ids I32 [U], "
                                  "pooled_index I32 [B]",
            "model.safetensors": "F32 weights, HF names in named_parameters order (embedding as rows, see above)",
            "lora_init.safetensors": "F32 lora_A / lora_B for every layer and target module (PEFT key names)",
            "forward.safetensors": "F64: rewards [B] (base model), lora.rewards [B] (base + LoRA with random B), "
                                   "full.loss / lora.loss [1] (main variant), loss.<variant> [1], "
                                   "drewards.<variant> [B], hidden.embed / hidden.layer0 / hidden.layer1 (residual "
                                   "stream after each layer) / hidden.final_norm [B,T,C] (padded positions included: "
                                   "compare rows t < lengths[b] only)",
            "grads_full.safetensors": "F64 gradient of every weight (full fine-tuning, main variant), names as "
                                      "model.safetensors",
            "grads_lora.safetensors": "F64 gradient of every lora_A / lora_B (random B) and "
                                      "base_model.model.score.weight (main variant)",
            "train.safetensors": "F64 {full,lora}.loss [10] (loss of each step before its update), "
                                 "{full,lora}.grad_norm [10] (pre-clip total 2-norm, as HF logs it), "
                                 "{full,lora}.learning_rate [10] (lr used by that step's update), "
                                 "full.final.<name> and lora.final.<name>: weights after the 10 steps",
        },
        "training": dict(TRAIN, micro_batches_per_step=1, batch="the same batch every step",
                         max_grad_norm_note="3.0 rather than HF's default 1.0 so that some steps clip and others do "
                                            "not (pre-clip norms 5.7 to 2.1 full, 3.1 to 2.7 LoRA)",
                         optimizer="torch.optim.AdamW (single-tensor implementation, amsgrad off)",
                         clipping="torch.nn.utils.clip_grad_norm_: total = ||(||g_i||_2)_i||_2 over all trainable "
                                  "tensors; g *= min(1, max_grad_norm / (total + 1e-6))",
                         schedule="get_linear_schedule_with_warmup: lr(step) = lr0·step/max(1,warm) for step < warm, "
                                  "else lr0·max(0,(total-step)/max(1,total-warm)); step 0 uses lr 0",
                         weight_decay_rule="HF Trainer.get_decay_parameter_names (current transformers): decay "
                                           "unless the lower-cased name matches bias, layernorm, rmsnorm, "
                                           "(?:^|\\.)norm(?:$|\\.) or _norm(?:$|\\.). Qwen3: no norm weight is "
                                           "decayed (input/post_attention_layernorm, q_norm, k_norm, model.norm); "
                                           "the embedding, every linear weight, score, lora_A/B are decayed.",
                         lora_start="lora_A from lora_init.safetensors, lora_B = 0, score = model score.weight"),
        "f32_vs_f64_observed": dev,
        "tolerances_info": "f32_vs_f64_observed lists max deviations of the same computation in torch CPU float32 "
                           "from this float64 reference; a GPU f32 implementation with other summation orders should "
                           "stay within a small multiple of these. Suggested: rewards/loss rtol 1e-5 (plus atol "
                           "~1e-6 for rewards near 0), gradients rtol ~1e-3 with atol ~1e-3·max|grad| of the tensor "
                           "(tiny elements carry cancellation error), training losses rtol ~1e-4; final weights "
                           "atol ~ a few 1e-4 (AdamW's m/sqrt(v) amplifies the sign of near-zero gradients into steps "
                           "of size ~lr).",
        "sizes_bytes": sizes,
    }
    with open(os.path.join(OUT_DIR, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps({"sizes": sizes, "total": sum(sizes.values()),
                      "losses_full": ref["train.full"]["loss"], "grad_norm_full": ref["train.full"]["grad_norm"],
                      "losses_lora": ref["train.lora"]["loss"], "grad_norm_lora": ref["train.lora"]["grad_norm"],
                      "rewards": ref["rewards"].tolist()}, indent=1))


if __name__ == "__main__":
    main()
