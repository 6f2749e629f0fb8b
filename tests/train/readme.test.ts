// The READMEs written inside exports, checked statically (CI has no Python; tools/check_export_snippets.ts runs
// them with the real transformers / PEFT / torch): the base model's real id or, for the studio's demo model, no
// repo at all; pad_token_id given to the reward model; chat-template tokenization as a dict passed as **inputs
// (transformers ≥ 5 returns a BatchEncoding); the folder names the snippets load are the export zip's folders;
// the merged model loads its tokenizer from its own folder.
import { describe, expect, it } from 'vitest';
import { ADAPTER_DIR, MODEL_DIR, adapterReadme, modelReadme, pythonBlocks } from '../../src/train/readme.ts';
import { DEMO_MODEL_NAME } from '../../src/model/tiny.ts';

const LORA = { r: 8, lora_alpha: 16, target_modules: ['q_proj' as const, 'v_proj' as const] };

/** The string arguments of every `name(` call in the code. */
function callArgs(code: string, name: string): string[] {
  return [...code.matchAll(new RegExp(`${name.replace('.', '\\.')}\\(([^()\\n]*)\\)`, 'g'))].map((m) => m[1]);
}

function checkScoring(code: string): void {
  // tokenization returns a dict (BatchEncoding) and is unpacked into the model; never a bare tensor passed in
  expect(code).toMatch(/inputs = tokenizer\.apply_chat_template\(messages, return_tensors="pt", return_dict=True\)/);
  expect(code).toContain('model(**inputs)');
  expect(code).not.toMatch(/model\((ids|input_ids|inputs)\)/);
  expect(code).toContain('print(f"reward: {reward:.4f}")');
  expect(code).not.toMatch(/path\/to|<base model>|\bTODO\b/);
}

describe('export READMEs', () => {
  it('an adapter on a Hub model: loads that model with pad_token_id, the adapter from the zip folder, and scores', () => {
    const md = adapterReadme({ baseModel: 'Qwen/Qwen3-0.6B', lora: LORA, learningRate: 1e-4 });
    const [code, ...more] = pythonBlocks(md);
    expect(more).toEqual([]);
    expect(md).toContain('base_model: Qwen/Qwen3-0.6B');
    expect(code).toContain('BASE = "Qwen/Qwen3-0.6B"');
    expect(callArgs(code, 'AutoTokenizer.from_pretrained')).toEqual(['BASE']);
    expect(callArgs(code, 'AutoModelForSequenceClassification.from_pretrained')).toEqual(['BASE, num_labels=1, pad_token_id=tokenizer.pad_token_id']);
    expect(code).toContain(`PeftModel.from_pretrained(base, "${ADAPTER_DIR}")`);
    checkScoring(code);
  });

  it("an adapter on the demo model names no repo (it is not on the Hub) and has no code that cannot run", () => {
    const md = adapterReadme({ baseModel: null, lora: LORA });
    expect(pythonBlocks(md)).toEqual([]);
    expect(md).not.toContain(DEMO_MODEL_NAME);
    expect(md).not.toContain('base_model:');
    expect(md).toMatch(/not on the Hugging Face Hub/);
    expect(md).toMatch(/Export the merged model/);
  });

  it('a merged model loads tokenizer and model from its own folder (its config has pad_token_id)', () => {
    for (const baseModel of ['Qwen/Qwen3-0.6B', null]) {
      const md = modelReadme({ baseModel });
      const [code] = pythonBlocks(md);
      expect(callArgs(code, 'AutoTokenizer.from_pretrained')).toEqual([`"${MODEL_DIR}"`]);
      expect(callArgs(code, 'AutoModelForSequenceClassification.from_pretrained')).toEqual([`"${MODEL_DIR}"`]);
      expect(md).toContain('`pad_token_id`');
      expect(md).not.toContain(DEMO_MODEL_NAME);
      expect(md).not.toMatch(/Qwen\/Qwen3-0\.6B fine-tuned/);
      checkScoring(code);
    }
    expect(modelReadme({ baseModel: null })).toMatch(/demo model/);
  });

  it('the folder names are the zip folders Export writes', () => {
    expect([ADAPTER_DIR, MODEL_DIR]).toEqual(['adapter', 'model']);
  });
});
