// Shared CLI plumbing: the GPU, the run config, and writing exported files.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { requestNodeGpu } from '../gpu/node.ts';
import { describeGpu, type Gpu } from '../gpu/device.ts';
import { parseRewardConfig, defaultRewardConfig, type RewardConfig } from '../train/config.ts';
import { CliInputError } from './files.ts';
import { parseJsonText } from '../formats/json_text.ts';

export async function cliGpu(): Promise<Gpu> {
  const gpu = await requestNodeGpu({ swiftShaderFallback: true });
  console.error(`[gpu] ${describeGpu(gpu)}`);
  return gpu;
}

/** --config: a JSON file path, or inline JSON starting with '{'. Absent: TRL's defaults. */
export async function readRunConfig(arg: string | undefined): Promise<RewardConfig> {
  if (arg === undefined) return defaultRewardConfig();
  let text = arg;
  let source = '--config';
  if (!arg.trim().startsWith('{')) {
    if (!existsSync(arg)) throw new CliInputError(`--config ${arg}: file not found`);
    text = await readFile(arg, 'utf8');
    source = arg;
  }
  // file:line:column for syntax errors, and a depth limit before the fields are walked (a 10,000-deep value overflowed
  // the stack of the field checks)
  return parseRewardConfig(parseJsonText(text, source), source);
}

export async function writeFiles(dir: string, files: { name: string; data: Uint8Array }[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(path.join(dir, f.name), f.data);
}

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'vocab.json', 'merges.txt', 'special_tokens_map.json', 'added_tokens.json', 'generation_config.json'];

export async function copyTokenizerFiles(fromDir: string, toDir: string): Promise<void> {
  await mkdir(toDir, { recursive: true });
  for (const f of TOKENIZER_FILES) if (existsSync(path.join(fromDir, f))) await copyFile(path.join(fromDir, f), path.join(toDir, f));
}

export function gpuMemoryBytes(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined;
  const gb = Number(arg);
  if (!(gb > 0)) throw new CliInputError(`--gpu-memory ${arg}: expected a number of GiB > 0, e.g. --gpu-memory 24`);
  return gb * 2 ** 30;
}
