// Short versions of the soak's kill scenario on the real CLI (a child process killed as by `kill -9`, through
// flags.ts `kill@…` switches):
//   killed while writing checkpoint-2 (after steps 1–2 were logged): checkpoint-1 stays complete, no half-written
//   checkpoint-2 is visible, and `--resume` finishes with each step logged once in metrics.jsonl (rewritten from the
//   checkpoint's history), complete checkpoints and a valid adapter; no output file holds the absolute model path
//   (the command named the model folder by a relative path);
//   killed in the middle of an export: the previous export is untouched, no half-written one appears.
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { outputProblems, ROOT, runCli, soakFixtures } from '../../tools/soak/common.ts';

const config = {
  learning_rate: 5e-3, max_steps: 3, logging_steps: 1, save_steps: 1, per_device_train_batch_size: 2, max_length: 48,
  peft: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj'] },
};

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? allFiles(path.join(dir, n)) : [path.join(dir, n)]));
}

describe('kill -9 (CLI)', () => {
  it('mid-checkpoint: nothing half-written, --resume logs each step once; no absolute local path in the outputs', async () => {
    // inside the project, so the relative path the command uses does not contain the absolute one
    await mkdir(path.join(ROOT, '.cache'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, '.cache', 'soak-kill-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const fx = await soakFixtures(dir, 4, 2);
    const model = path.relative(ROOT, fx.modelDir);
    const out = path.join(dir, 'out');
    const args = (resume: boolean) => ['train', '--model', model, '--train', fx.trainFile, '--config', JSON.stringify(config), '--out', out, ...(resume ? ['--resume'] : [])];
    const killed = await runCli(args(false), { faults: 'kill@checkpoint:2' });
    expect(killed.signal ?? killed.code, killed.stderr).toBe(process.platform === 'win32' ? 1 : 'SIGKILL');
    expect(killed.stderr).toContain('[fault] kill -9 at checkpoint write checkpoint-2');
    expect(await outputProblems(out)).toEqual([]);
    expect(readdirSync(path.join(out, 'checkpoints')).filter((n) => !n.startsWith('.tmp-'))).toEqual(['checkpoint-1']);
    // the killed run logged step 2 before it died
    expect(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([1, 2]);

    const resumed = await runCli(args(true));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('[resume] from checkpoint-1');
    expect(await outputProblems(out)).toEqual([]);
    expect(readdirSync(path.join(out, 'checkpoints'))).toEqual(['checkpoint-1', 'checkpoint-2', 'checkpoint-3']);
    expect(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);
    expect(existsSync(path.join(out, 'adapter', 'adapter_model.safetensors'))).toBe(true);
    // the adapter names the base model as the command did, not by an absolute path of this machine
    expect(JSON.parse(readFileSync(path.join(out, 'adapter', 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe(model);
    for (const f of allFiles(out)) expect(readFileSync(f).includes(path.resolve(fx.modelDir)), f).toBe(false);
  }, 600_000);

  it('mid-export: the previous export stays whole, no half-written one appears', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rs-soak-killexport-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const target = path.join(dir, 'adapter');
    await mkdir(target);
    await writeFile(path.join(target, 'adapter_config.json'), '{"previous": true}');
    const r = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'tools/soak/kill_writer.ts', target], { cwd: ROOT, env: { ...process.env, REWARD_STUDIO_FAULTS: 'kill@export:1' } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    });
    expect(r.signal ?? r.code, r.stderr).toBe(process.platform === 'win32' ? 1 : 'SIGKILL');
    expect(r.stderr).toContain('[fault] kill -9 at export into');
    expect(readdirSync(target)).toEqual(['adapter_config.json']);
    expect(readFileSync(path.join(target, 'adapter_config.json'), 'utf8')).toBe('{"previous": true}');
  });
});
