// One way to parse a JSON file's text (config.json, adapter_config.json, a --config file, a safetensors index, …):
// a UTF-8 byte order mark is stripped, an empty file says so, nesting deeper than MAX_JSON_DEPTH is refused before
// anything walks the value (a 10,000-deep array overflows the stack of JSON.stringify and of every recursive
// validator), and a syntax error names the file, line and column with what was expected there.
import { locateJsonError } from '../data/json-error.ts';
import { UserError } from '../util/user_error.ts';

/** Deepest nesting of arrays/objects accepted in any JSON input (config files and data rows alike). */
export const MAX_JSON_DEPTH = 100;

export class JsonTextError extends UserError {
  override name = 'JsonTextError';
  constructor(
    readonly source: string,
    readonly line: number | null,
    readonly column: number | null,
    readonly reason: string,
  ) {
    super(`${source}${line !== null ? `:${line}:${column}` : ''}: ${reason}`);
  }
}

/** Index of the first '[' or '{' (outside strings) that opens level maxDepth + 1, or -1. Iterative. */
export function excessiveNesting(text: string, maxDepth = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** 1-based line and column (UTF-16 code units) of index i in text. */
export function lineColumn(text: string, i: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < i; k = text.indexOf('\n', k + 1)) {
    line++;
    start = k + 1;
  }
  return { line, column: i - start + 1 };
}

/** Parses the text of a JSON file named `source`; throws JsonTextError naming the place. */
export function parseJsonText(text: string, source: string, opts: { maxDepth?: number; what?: string } = {}): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const what = opts.what ?? 'a JSON object';
  if (body.trim() === '') throw new JsonTextError(source, null, null, `the file is empty; expected ${what} (was it saved or downloaded completely?)`);
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const deep = excessiveNesting(body, maxDepth);
  if (deep >= 0) {
    const { line, column } = lineColumn(body, deep);
    throw new JsonTextError(source, line, column, `nesting deeper than ${maxDepth} levels of arrays/objects; this is not ${what}`);
  }
  try {
    return JSON.parse(body);
  } catch (e) {
    const loc = locateJsonError(body);
    if (!loc) throw new JsonTextError(source, null, null, `not valid JSON (${(e as Error).message})`);
    const { line, column } = lineColumn(body, loc.index);
    const end = loc.index >= body.length ? ' (the file ends early: was it truncated?)' : '';
    throw new JsonTextError(source, line, column, `not valid JSON: ${loc.message}${end}`);
  }
}
