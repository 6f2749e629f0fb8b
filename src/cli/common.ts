// Shared CLI plumbing: the GPU, the run config, and writing exported files.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, copyFile, open, statfs } from 'node:fs/promises';
import path from 'node:path';
import { requestNodeGpu } from '../gpu/node.ts';
import { describeEngineFeatures, describeGpu, type Gpu } from '../gpu/device.ts';
import { parseRewardConfig, defaultRewardConfig, type RewardConfig } from '../train/config.ts';
import { ACTIVATION_DTYPE_CHOICES, type ActivationDtypeChoice } from '../train/activation_dtype.ts';
import { CliInputError } from './files.ts';
import { parseJsonText } from '../formats/json_text.ts';
import { enospcError, faultAt, killNow, type FaultPoint } from '../gpu/flags.ts';
import { formatBytes } from '../data/storage.ts';

export async function cliGpu(): Promise<Gpu> {
  const gpu = await requestNodeGpu({ swiftShaderFallback: true });
  // the f16 weight tiles' self-test, so the engine line below says what is in force (imported here: the other helpers
  // of this file must not pull the engine's shaders, e.g. tools/soak/kill_writer.ts runs without the .wgsl loader)
  const { checkGemmVariants } = await import('../ops/sgmat_check.ts');
  await checkGemmVariants(gpu);
  console.error(`[gpu] ${describeGpu(gpu)}`);
  console.error(`[gpu] engine: ${describeEngineFeatures(gpu)}`);
  if (gpu.info.software) console.error(`[gpu] WARNING: ${gpu.info.software}`);
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

/** Free bytes on the disk holding `dir` (null where the platform cannot say). */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** "needs 1.2 MiB, 300 KiB free on the disk holding <dir>" for full-disk messages. */
export async function spaceNote(dir: string, files: { data: Uint8Array }[]): Promise<string> {
  const need = files.reduce((n, f) => n + f.data.byteLength, 0);
  const free = await freeBytes(dir);
  return `it needs ${formatBytes(need)}${free === null ? '' : `, ${formatBytes(free)} are free`} on the disk holding ${dir}`;
}

/**
 * Writes `files` as the folder `final`, all or nothing: into a temporary sibling folder (`.tmp-<name>-<pid>`, each
 * file flushed), then renamed into place over any previous `final`, so a crash or a full disk never leaves a
 * half-written folder where a finished one is expected. The fault point (flags.ts) kills or fills the disk after the
 * first file. On failure the temporary folder is removed and the error rethrown.
 */
export async function writeFolderAtomic(final: string, files: { name: string; data: Uint8Array }[], point: FaultPoint, what: string): Promise<void> {
  const parent = path.dirname(path.resolve(final));
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.tmp-${path.basename(final)}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  const fault = faultAt(point);
  try {
    await mkdir(tmp);
    for (const [i, f] of files.entries()) {
      const fh = await open(path.join(tmp, f.name), 'w');
      try {
        await fh.writeFile(f.data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (i === 0 && fault === 'kill') killNow(what);
      if (i === 0 && fault === 'enospc') throw enospcError(what);
    }
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
}

/** True for a full disk or quota (ENOSPC / EDQUOT). */
export const isDiskFull = (e: unknown) => ['ENOSPC', 'EDQUOT'].includes((e as NodeJS.ErrnoException).code ?? '');

/** Writes an export folder `dir` all or nothing (writeFolderAtomic, fault point `export`). */
export async function writeFiles(dir: string, files: { name: string; data: Uint8Array }[]): Promise<void> {
  try {
    await writeFolderAtomic(dir, files, 'export', `export into ${dir}`);
  } catch (e) {
    if (isDiskFull(e)) {
      throw new CliInputError(`no space left to write ${dir}: ${await spaceNote(path.dirname(path.resolve(dir)), files)}. Nothing was written there; the checkpoints are intact. Free some space and run again with --resume.`);
    }
    throw e;
  }
}

/** The tokenizer files of a model folder (to ship with an exported model). */
export async function readTokenizerFiles(fromDir: string): Promise<{ name: string; data: Uint8Array }[]> {
  const out = [];
  for (const f of TOKENIZER_FILES) if (existsSync(path.join(fromDir, f))) out.push({ name: f, data: new Uint8Array(await readFile(path.join(fromDir, f))) });
  return out;
}

export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'vocab.json', 'merges.txt', 'special_tokens_map.json', 'added_tokens.json', 'generation_config.json'];

export async function copyTokenizerFiles(fromDir: string, toDir: string): Promise<void> {
  await mkdir(toDir, { recursive: true });
  for (const f of TOKENIZER_FILES) if (existsSync(path.join(fromDir, f))) await copyFile(path.join(fromDir, f), path.join(toDir, f));
}

/** --activation-dtype auto|float32|float16 (default auto: the memory plan's choice, f16 only when f32 does not fit). */
export function activationDtypeArg(arg: string | undefined): ActivationDtypeChoice {
  if (arg === undefined) return 'auto';
  if (!(ACTIVATION_DTYPE_CHOICES as readonly string[]).includes(arg)) {
    throw new CliInputError(`--activation-dtype ${arg}: expected one of ${ACTIVATION_DTYPE_CHOICES.join(', ')} (auto: float32 when it fits, else float16 storage of the saved activations)`);
  }
  return arg as ActivationDtypeChoice;
}

export function gpuMemoryBytes(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined;
  const gb = Number(arg);
  if (!(gb > 0)) throw new CliInputError(`--gpu-memory ${arg}: expected a number of GiB > 0, e.g. --gpu-memory 24`);
  return gb * 2 ** 30;
}
