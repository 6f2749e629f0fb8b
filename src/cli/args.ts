// A small argument parser for the CLI: `--name value`, `--flag`, positionals. Unknown options are errors that
// name the option and list the known ones.

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

import { UserError } from '../util/user_error.ts';

export class UsageError extends UserError {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], known: { values: string[]; flags?: string[] }): ParsedArgs {
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  const flags = new Set(known.flags ?? []);
  const values = new Set(known.values);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (flags.has(name)) {
      options.set(name, true);
    } else if (values.has(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      options.set(name, v);
    } else {
      const all = [...values, ...flags].map((n) => `--${n}`).join(', ');
      throw new UsageError(`unknown option --${name} (known: ${all})`);
    }
  }
  return { positionals, options };
}

export function required(a: ParsedArgs, name: string): string {
  const v = a.options.get(name);
  if (typeof v !== 'string') throw new UsageError(`--${name} is required`);
  return v;
}

export function optional(a: ParsedArgs, name: string): string | undefined {
  const v = a.options.get(name);
  return typeof v === 'string' ? v : undefined;
}
