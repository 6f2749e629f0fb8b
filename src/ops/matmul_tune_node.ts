// The GEMM autotuner's store in Node: one JSON file, { [adapter key]: { [shape class]: tile name } }, by default
// $XDG_CACHE_HOME/reward-studio/gemm-tune.json (~/.cache/… ; %LOCALAPPDATA%\reward-studio\… on Windows).
// Browser code never imports this file (see ./matmul_tune.ts for the IndexedDB store).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TuneChoice } from './matmul_tune.ts';
import type { TuneStore } from './matmul_tune.ts';

export function defaultTuneFile(): string {
  const base = process.env.XDG_CACHE_HOME || (process.platform === 'win32' ? process.env.LOCALAPPDATA : '') || join(homedir(), '.cache');
  return join(base || homedir(), 'reward-studio', 'gemm-tune.json');
}

type File = Record<string, Record<string, TuneChoice>>;

async function readAll(file: string): Promise<File> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as File;
  } catch {
    // fall through
  }
  // A damaged cache only costs a re-tune: say so and start over (the file is rewritten on save).
  console.warn(`[autotune] ${file} is not a JSON object of tile choices; ignoring it (it will be rewritten). Delete it to silence this.`);
  return {};
}

export function fileTuneStore(file = defaultTuneFile()): TuneStore {
  return {
    async load(adapter) {
      return (await readAll(file))[adapter] ?? null;
    },
    async save(adapter, choices) {
      const all = await readAll(file);
      all[adapter] = choices;
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(all, null, 1));
      await rename(tmp, file);
    },
  };
}
