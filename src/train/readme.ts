// The READMEs written inside exports: what the folder is and Python that loads and scores it as written, checked
// with the real transformers 5 / PEFT / torch by tools/check_export_snippets.mjs (outside CI) and statically by
// tests/train/readme.test.ts. Rules the snippets follow:
//  - the base model is named by its real Hub id; the studio's demo model is not on the Hub, so an adapter on it
//    says so and points to the merged model instead of naming a repo that does not exist;
//  - the reward model gets pad_token_id (from_pretrained(..., pad_token_id=…)), so batches of more than one
//    sequence pool at the right position;
//  - chat-template tokenization returns a dict (return_dict=True: a BatchEncoding, as transformers ≥ 5 does by
//    default) that is passed as **inputs;
//  - a merged model folder carries its tokenizer files (the export copies them), so it loads from itself.
import type { LoraSettings } from '../formats/peft.ts';

/** Folder names inside the studio's export zip (and the names the snippets use for them). */
export const ADAPTER_DIR = 'adapter';
export const MODEL_DIR = 'model';

/** The conversation the snippets score. */
const EXAMPLE = `messages = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "2+2 is 4."},
]`;

/** Scoring code shared by both READMEs (tokenizer and model defined above it). */
const SCORE = `${EXAMPLE}
inputs = tokenizer.apply_chat_template(messages, return_tensors="pt", return_dict=True)
with torch.no_grad():
    reward = model(**inputs).logits[0, 0].item()
print(f"reward: {reward:.4f}")`;

export interface AdapterReadmeOptions {
  /** The base model's Hub id, or null for the studio's demo model (not on the Hub). */
  baseModel: string | null;
  lora: Pick<LoraSettings, 'r' | 'lora_alpha' | 'target_modules'>;
  learningRate?: number;
}

export function adapterReadme(o: AdapterReadmeOptions): string {
  const front = `---
library_name: peft
${o.baseModel ? `base_model: ${o.baseModel}\n` : ''}tags: [reward-model, trl, lora, reward-studio]
---
# Reward model LoRA adapter (Reward Studio)

A PEFT LoRA adapter trained as a reward model (\`AutoModelForSequenceClassification\`, num_labels=1) with TRL
RewardTrainer semantics, on ${o.baseModel ? `\`${o.baseModel}\`` : "the studio's built-in demo model"}:
r=${o.lora.r}, lora_alpha=${o.lora.lora_alpha}, target_modules=${JSON.stringify(o.lora.target_modules)}${o.learningRate !== undefined ? `, learning_rate=${o.learningRate}` : ''}.
The \`score\` head is saved in full (modules_to_save). Files: \`adapter_config.json\`, \`adapter_model.safetensors\`.
`;
  if (!o.baseModel) {
    return `${front}
The demo model (a tiny Qwen3 with random weights, made in the browser) is not on the Hugging Face Hub, so this
adapter has no base to load onto in Python. Export the merged model (Export → Merged model): it holds the demo
weights with this adapter merged in, with its tokenizer, and its README shows how to load and score it.
`;
  }
  return `${front}
## Load and score

Run this from the folder that holds \`${ADAPTER_DIR}/\` (the root of the studio's zip):

\`\`\`python
import torch
from peft import PeftModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer

BASE = "${o.baseModel}"
tokenizer = AutoTokenizer.from_pretrained(BASE)
# pad_token_id lets batches of several sequences pool at each one's last real token
base = AutoModelForSequenceClassification.from_pretrained(BASE, num_labels=1, pad_token_id=tokenizer.pad_token_id)
model = PeftModel.from_pretrained(base, "${ADAPTER_DIR}").eval()

${SCORE}
\`\`\`
`;
}

export interface ModelReadmeOptions {
  /** The Hub id of the model it was fine-tuned from, or null for the studio's demo model. */
  baseModel: string | null;
}

export function modelReadme(o: ModelReadmeOptions): string {
  return `---
library_name: transformers
${o.baseModel ? `base_model: ${o.baseModel}\n` : ''}tags: [reward-model, trl, reward-studio]
---
# Reward model (Reward Studio)

${o.baseModel ? `\`${o.baseModel}\`` : "The studio's built-in demo model (a tiny Qwen3 with random weights, not on the Hub)"} trained as a reward model
(\`Qwen3ForSequenceClassification\`, num_labels=1) with TRL RewardTrainer semantics; any LoRA is merged in.
Files: \`config.json\` (with \`pad_token_id\`), \`model.safetensors\`, the tokenizer files.

## Load and score

Run this from the folder that holds \`${MODEL_DIR}/\` (the root of the studio's zip):

\`\`\`python
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("${MODEL_DIR}")
model = AutoModelForSequenceClassification.from_pretrained("${MODEL_DIR}").eval()

${SCORE}
\`\`\`
`;
}

/** The Python code blocks of a README, in order (tools/check_export_snippets.mjs runs them). */
export function pythonBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]);
}
