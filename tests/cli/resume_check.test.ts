// `npm run cli -- train --resume` with a changed learning_rate is refused (exit 2, the field and the override named)
// before anything is trained.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testFixtures } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/cli.ts';

describe('CLI resume check', () => {
  it('refuses a resume with a changed learning_rate and names the override', async () => {
    const { modelDir, datasetDir } = await testFixtures();
    const out = mkdtempSync(path.join(tmpdir(), 'rs-cli-resume-'));
    const cfg = (lr: number, steps: number) => {
      const f = path.join(out, `config-${lr}-${steps}.json`);
      writeFileSync(f, JSON.stringify({ learning_rate: lr, max_steps: steps, save_steps: 1, logging_steps: 1, per_device_train_batch_size: 2, max_length: 48, peft: { r: 2, lora_alpha: 4 } }));
      return f;
    };
    const train = path.join(datasetDir, 'jsonl', 'test.jsonl');
    await runCli(['train', '--model', modelDir, '--train', train, '--config', cfg(2e-3, 1), '--out', out]);
    const refused = await runCli(['train', '--model', modelDir, '--train', train, '--config', cfg(1e-3, 2), '--out', out, '--resume'], { allowFail: true });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/learning_rate: checkpoint 0\.002, now 0\.001/);
    expect(refused.stderr).toMatch(/max_steps: checkpoint 1, now 2/);
    expect(refused.stderr).toMatch(/--override-resume-check/);
    expect(refused.stderr).not.toMatch(/stack trace/);
    expect(refused.stderr).not.toMatch(/\[train\] step/);

    // (the override path is covered by tests/train/resume.test.ts without two more CLI processes)
  });
});
