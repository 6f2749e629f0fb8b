// Field-by-field validation of JSON config objects (HF config.json, TRL RewardConfig, PEFT LoraConfig /
// adapter_config.json). Every problem is collected with its field path and what to do, then thrown together as one
// ConfigError, so the studio can mark each field and the CLI can print every mistake at once.

export interface FieldIssue {
  /** Dotted path of the field, e.g. "learning_rate" or "peft.r". */
  field: string;
  message: string;
}

/** A user-facing config error: the source (file or "config"), and one issue per bad field. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: FieldIssue[],
  ) {
    super(`${source}: ${issues.map((i) => `field "${i.field}": ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A number as the user wrote it, as far as a float64 can tell: JSON.parse turns 1e400 into Infinity (JSON.stringify
 *  would print "null") and 18446744073709551615 into 18446744073709551616 (printed "18446744073709552000"). */
export function describeNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return `a number too large for a 64-bit float (read as ${v > 0 ? '' : '-'}Infinity)`;
  if (Number.isInteger(v) && !Number.isSafeInteger(v)) return `a number beyond 2^53 (≈${v.toPrecision(4)}, not exact)`;
  return String(v);
}

/** A short rendering of a value for "got …" in messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return describeNumber(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The candidate nearest to `name` (edit distance, or a shared word), or null when nothing is close. */
export function closest(name: string, candidates: readonly string[]): string | null {
  const n = name.toLowerCase().replace(/-/g, '_');
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(n, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best !== null && bestD <= Math.max(2, Math.floor(n.length / 3))) return best;
  const sub = candidates.find((c) => c.length >= 4 && n.length >= 4 && (c.includes(n) || n.includes(c)));
  return sub ?? null;
}

export interface NumRange {
  min?: number;
  max?: number;
  /** Bounds are exclusive. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

function rangeText(r: NumRange, integer: boolean): string {
  const kind = integer ? 'an integer' : 'a number';
  const { min, max } = r;
  if (min !== undefined && max !== undefined) {
    return `${kind} in ${r.minExclusive ? '(' : '['}${min}, ${max}${r.maxExclusive ? ')' : ']'}`;
  }
  if (min !== undefined) return `${kind} ${r.minExclusive ? '>' : '≥'} ${min}`;
  if (max !== undefined) return `${kind} ${r.maxExclusive ? '<' : '≤'} ${max}`;
  return `a finite ${integer ? 'integer' : 'number'}`;
}

function inRange(x: number, r: NumRange): boolean {
  if (r.min !== undefined && (r.minExclusive ? !(x > r.min) : !(x >= r.min))) return false;
  if (r.max !== undefined && (r.maxExclusive ? !(x < r.max) : !(x <= r.max))) return false;
  return true;
}

/**
 * Reads typed fields out of one JSON object, recording an issue (and returning the default) for each bad one.
 * `prefix` is prepended to field paths ("peft." for the LoRA object).
 */
export class Fields {
  readonly issues: FieldIssue[];

  constructor(
    readonly obj: Record<string, unknown>,
    readonly prefix = '',
    issues?: FieldIssue[],
  ) {
    this.issues = issues ?? [];
  }

  path(key: string): string {
    return this.prefix + key;
  }

  /** True when the key is present with a value other than undefined. */
  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, key) && this.obj[key] !== undefined;
  }

  fail(key: string, message: string): void {
    this.issues.push({ field: this.path(key), message });
  }

  /** A number (integer when `integer`), `def` when absent; null accepted only when `nullable`. */
  number(key: string, def: number, r: NumRange & { integer?: boolean } = {}): number {
    if (!this.has(key)) return def;
    const v = this.obj[key];
    const integer = r.integer ?? false;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || !inRange(v, r)) {
      this.fail(key, `expected ${rangeText(r, integer)}, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  integer(key: string, def: number, r: NumRange = {}): number {
    return this.number(key, def, { ...r, integer: true });
  }

  nullableNumber(key: string, def: number | null, r: NumRange & { integer?: boolean } = {}): number | null {
    if (this.has(key) && this.obj[key] === null) return null;
    if (!this.has(key)) return def;
    const v = this.obj[key];
    const integer = r.integer ?? false;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || !inRange(v, r)) {
      this.fail(key, `expected null or ${rangeText(r, integer)}, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  boolean(key: string, def: boolean): boolean {
    if (!this.has(key)) return def;
    const v = this.obj[key];
    if (typeof v !== 'boolean') {
      this.fail(key, `expected true or false, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  string(key: string, def: string): string {
    if (!this.has(key)) return def;
    const v = this.obj[key];
    if (typeof v !== 'string') {
      this.fail(key, `expected a string, got ${describe(v)}`);
      return def;
    }
    return v;
  }

  nullableString(key: string, def: string | null): string | null {
    if (this.has(key) && this.obj[key] === null) return null;
    return this.has(key) ? this.string(key, def ?? '') : def;
  }

  /** One of the listed strings. */
  oneOf<T extends string>(key: string, def: T, values: readonly T[]): T {
    if (!this.has(key)) return def;
    const v = this.obj[key];
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      const near = typeof v === 'string' ? closest(v, values) : null;
      this.fail(key, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}${near ? ` (did you mean "${near}"?)` : ''}`);
      return def;
    }
    return v as T;
  }

  /** A list of strings, each one of `values` when given; no duplicates unless `allowRepeats`. */
  stringList(key: string, def: string[], values?: readonly string[], allowRepeats = false): string[] {
    if (!this.has(key)) return def.slice();
    const v = this.obj[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      this.fail(key, `expected a list of strings, got ${describe(v)}`);
      return def.slice();
    }
    const out = v as string[];
    if (values) {
      const bad = out.filter((x) => !values.includes(x));
      if (bad.length) {
        this.fail(key, `unknown ${bad.map((x) => JSON.stringify(x)).join(', ')}; allowed: ${values.map((x) => JSON.stringify(x)).join(', ')}`);
        return def.slice();
      }
    }
    const dup = allowRepeats ? undefined : out.find((x, i) => out.indexOf(x) !== i);
    if (dup !== undefined) {
      this.fail(key, `${JSON.stringify(dup)} is listed twice`);
      return def.slice();
    }
    return out.slice();
  }

  /** Accepts the field only when it holds `expected` (or is absent): for upstream options the engine does not implement. */
  onlyDefault(key: string, expected: unknown, why: string): void {
    if (!this.has(key)) return;
    const v = this.obj[key];
    // null and {} are the same "nothing" for optional dict fields (PEFT writes {}, users write null, or the reverse).
    const empty = (x: unknown) => x === null || (isPlainObject(x) && Object.keys(x).length === 0);
    const same = JSON.stringify(v) === JSON.stringify(expected) || (empty(v) && empty(expected));
    if (!same) this.fail(key, `only ${describe(expected)} is supported (${why}), got ${describe(v)}`);
  }

  /** Records an issue for every key not in `known`, with a "did you mean" suggestion. */
  rejectUnknown(known: readonly string[], hint?: (key: string) => string | null): void {
    for (const key of Object.keys(this.obj)) {
      if (known.includes(key)) continue;
      const extra = hint?.(key);
      const near = closest(key, known);
      this.fail(key, `unknown field${extra ? `; ${extra}` : near ? `; did you mean "${near}"?` : ''}`);
    }
  }

  throwIfAny(source: string): void {
    if (this.issues.length) throw new ConfigError(source, this.issues);
  }
}
