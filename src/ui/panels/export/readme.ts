// The README written beside an exported adapter / merged model: what it is and how to load it with PEFT/transformers.
import type { ConfigJson } from '../../../worker/protocol.ts';

export function adapterReadme(baseModel: string, config: ConfigJson): string {
  const lora = (config.peft ?? {}) as Record<string, unknown>;
  return `# Reward model LoRA adapter (Reward Studio)

A PEFT LoRA adapter for \`${baseModel}\` trained as a reward model (Qwen3ForSequenceClassification, num_labels=1)
with TRL RewardTrainer semantics: r=${String(lora.r ?? '?')}, lora_alpha=${String(lora.lora_alpha ?? '?')},
target_modules=${JSON.stringify(lora.target_modules ?? [])}, learning_rate=${String(config.learning_rate)}.
The \`score\` head is saved in full (modules_to_save).

## Load it

\`\`\`python
import torch
from peft import PeftModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("${baseModel}")
base = AutoModelForSequenceClassification.from_pretrained("${baseModel}", num_labels=1, torch_dtype=torch.bfloat16)
base.config.pad_token_id = tokenizer.pad_token_id
model = PeftModel.from_pretrained(base, "./adapter")   # this folder
model = model.merge_and_unload()                       # optional: a plain model

messages = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
inputs = tokenizer.apply_chat_template(messages, return_tensors="pt", return_dict=True)
with torch.no_grad():
    reward = model(**inputs).logits[0, 0].item()
print(reward)
\`\`\`

Files: \`adapter_config.json\`, \`adapter_model.safetensors\` (keys like
\`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight\` and \`base_model.model.score.weight\`).
`;
}

export function modelReadme(baseModel: string): string {
  return `# Reward model (Reward Studio)

\`${baseModel}\` fine-tuned as a reward model (Qwen3ForSequenceClassification, num_labels=1) with TRL RewardTrainer
semantics. Load it like any transformers checkpoint:

\`\`\`python
from transformers import AutoModelForSequenceClassification, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("./model")
model = AutoModelForSequenceClassification.from_pretrained("./model")
\`\`\`
`;
}
