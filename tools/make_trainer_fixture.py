#!/usr/bin/env python3
"""Writes the trainer parity fixture: tests/fixtures/trainer/{full,lora}/.

Unlike tools/make_parity_fixture.py (a float64 transcription of the model's math), this runs the *real* libraries:
transformers 5.18 `Qwen3ForSequenceClassification`, PEFT 0.21 `get_peft_model` (LoRA, task SEQ_CLS) and TRL 1.13
`RewardTrainer` / `RewardConfig`, end to end, and records what the Trainer logs (`trainer.state.log_history`) and the
final trainable weights. The studio's own `Trainer` (through `createSession`, the loop the CLI and the studio run) is
then compared with it in tests/train/trainer_parity.test.ts.

What the case exercises (each a place where a transcription would share our beliefs):
- several optimizer steps with gradient accumulation and a partial last group per epoch (11 pairs, batch 2 → 6 batches
  per epoch, gradient_accumulation_steps 4 → groups of 4 and 2);
- warmup + linear decay (the logged learning_rate convention of transformers 5.x);
- gradient clipping active (max_grad_norm below the pre-clip norms);
- a large weight decay (0.5), so the decay grouping (norm weights excluded) shows in the final weights;
- a `margin` column and `center_rewards_coefficient`;
- pad ids inside sequences and config.json naming `pad_token_id`, so the embedding's padding row gets no gradient in
  full fine-tuning (nn.Embedding(padding_idx=...));
- eval at a step with per-batch metric means (TRL's aggregation) over eval batches of unequal size.

Data order: the fixture sets `train_sampling_strategy="sequential"` (a real TrainingArguments option in
transformers 5.x), and the studio's test uses the same option, so both see the same batches. (The studio's default,
"random", is its own seeded shuffle, not torch's RandomSampler.)

Precision: the model is initialised in float32 (so every starting weight is exactly an f32), then the whole run happens
in float64 on the CPU. The fixture is therefore the exact math of the f32 starting point up to float64 rounding, and
the studio's float32 engine is compared against it with tolerances that reflect f32 rounding only.

Run: python3 tools/make_trainer_fixture.py   (needs torch, transformers, peft, trl, datasets, tokenizers from pip;
deterministic; rewrites the fixture files, which are committed so CI needs no Python)
"""

import json
import os
import shutil
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForSequenceClassification
from trl import RewardConfig, RewardTrainer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "trainer")

V = 320  # vocab
PAD = 3  # pad_token_id named in config.json
EOS = 2

MODEL_CONFIG = dict(
    vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, head_dim=16, max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0,
    tie_word_embeddings=False, pad_token_id=PAD, bos_token_id=None, eos_token_id=EOS, num_labels=1,
    attention_bias=False, use_cache=False, initializer_range=0.02,
)

# TRL RewardConfig keys, as a user would write them (the studio's test parses the same JSON with its own parser).
TRAIN_ARGS = dict(
    learning_rate=5e-3, per_device_train_batch_size=2, per_device_eval_batch_size=2, gradient_accumulation_steps=4,
    num_train_epochs=3, lr_scheduler_type="linear", warmup_steps=2, weight_decay=0.5, max_grad_norm=0.5,
    adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, logging_steps=1, eval_strategy="steps", eval_steps=3,
    save_strategy="no", center_rewards_coefficient=0.01, max_length=64, seed=42, disable_dropout=True,
    gradient_checkpointing=False, train_sampling_strategy="sequential",
)
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])


def make_pairs(gen, n, with_pad_inside):
    """Pre-tokenized pairs of unequal lengths (1..20), ids in [4, V); some hold the pad id inside."""
    out = []
    for i in range(n):
        lc = int(torch.randint(1, 21, (1,), generator=gen))
        lr = int(torch.randint(1, 21, (1,), generator=gen))
        c = torch.randint(4, V, (lc,), generator=gen).tolist()
        r = torch.randint(4, V, (lr,), generator=gen).tolist()
        if with_pad_inside and i % 3 == 0 and lc > 3:
            c[1] = PAD  # attended like any token; the pooled token is the rightmost non-pad one
        if with_pad_inside and i % 4 == 1 and lr > 2:
            r[0] = PAD
        margin = float(torch.empty(1).uniform_(-1.0, 1.0, generator=gen))
        out.append({"chosen_ids": c, "rejected_ids": r, "margin": round(margin, 3)})
    return out


def tokenizer():
    vocab = {f"t{i}": i for i in range(V)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="t1"))
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=f"t{PAD}", eos_token=f"t{EOS}", unk_token="t1")


def f64_from_f32_init(model):
    """Rounds every parameter to f32 (the stored starting point), then runs in f64."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.float32).to(p.dtype))
    return model.to(torch.float64)


def run_case(name, lora):
    torch.manual_seed(1234)
    config = Qwen3Config(**MODEL_CONFIG)
    model = Qwen3ForSequenceClassification(config).to(torch.float32)
    with torch.no_grad():
        # non-trivial norm weights, so the norms' gradients and their (absent) decay are visible
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
        # nn.Embedding(padding_idx) zeroes the pad row at init; give it values so "no gradient, still decayed" shows
        model.model.embed_tokens.weight[PAD].normal_(0, 0.02)
    case_dir = os.path.join(OUT, name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(os.path.join(case_dir, "model"))
    model.save_pretrained(os.path.join(case_dir, "model"), safe_serialization=True)
    # the studio reads config.json from the folder; keep float32 so the weights load exactly
    gen = torch.Generator().manual_seed(99)
    train = make_pairs(gen, 11, True)
    evals = make_pairs(gen, 5, True)

    if lora:
        lcfg = LoraConfig(task_type="SEQ_CLS", **LORA)
        model = get_peft_model(model, lcfg)
        with torch.no_grad():
            # PEFT's init: A Kaiming-uniform, B zeros. Give B small values so the first steps move A too.
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.05)
        init = {k: v.detach().to(torch.float32).contiguous() for k, v in model.named_parameters() if v.requires_grad}
        save_file(init, os.path.join(case_dir, "initial_trainable.safetensors"), metadata={"format": "pt"})
    model = f64_from_f32_init(model)

    args_dict = dict(TRAIN_ARGS)
    out_dir = tempfile.mkdtemp()
    args = RewardConfig(output_dir=out_dir, report_to="none", use_cpu=True, bf16=False, fp16=False,
                        dataloader_num_workers=0, **args_dict)
    trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(train),
                            eval_dataset=Dataset.from_list(evals), processing_class=tokenizer())
    trainer.train()
    shutil.rmtree(out_dir, ignore_errors=True)

    final = {}
    for k, v in trainer.model.named_parameters():
        if v.requires_grad:
            final[k] = v.detach().to(torch.float64).contiguous()
    save_file(final, os.path.join(case_dir, "final_trainable.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(case_dir, "train.jsonl"), "w") as f:
        for r in train:
            f.write(json.dumps(r) + "\n")
    with open(os.path.join(case_dir, "eval.jsonl"), "w") as f:
        for r in evals:
            f.write(json.dumps(r) + "\n")
    cfg = dict(args_dict)
    if lora:
        cfg["peft"] = dict(LORA)
    with open(os.path.join(case_dir, "reward_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(case_dir, "log_history.json"), "w") as f:
        json.dump(trainer.state.log_history, f, indent=1)
    print(name, json.dumps(trainer.state.log_history[:2], indent=1))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    run_case("full", lora=False)
    run_case("lora", lora=True)
    with open(os.path.join(OUT, "versions.json"), "w") as f:
        import peft, transformers, trl
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                   "trl": trl.__version__}, f, indent=2)
