// Feature variants of a shader, composed in this one place. A .wgsl file marks the lines that differ:
//   // #if SUBGROUPS      lines of the subgroup variant (may call shaders/subgroup_reduce.wgsl)
//   // #if F16            lines of the shader-f16 variant (shaders/matmul.wgsl's f16 weight tiles; the caller
//                         prepends `enable f16;`, see useF16)
//   // #else             lines of the portable variant
//   // #endif
// (no nesting; `#else` optional). The subgroup variant gets `enable subgroups;` first and subgroup_reduce.wgsl
// appended. useSubgroups picks the variant for a device: the feature when the device has it, unless flags.noSubgroups
// or the caller's explicit choice (tests run both).
import subgroupReduce from '../../shaders/subgroup_reduce.wgsl?raw';
import type { Gpu } from './device.ts';
import { flags } from './flags.ts';

export interface ShaderVariant {
  subgroups: boolean;
}

const NAMES = ['SUBGROUPS', 'F16'] as const;

/** Whether a kernel uses its subgroup variant on `gpu`: `requested` (a test's choice) or the device default. */
export function useSubgroups(gpu: Gpu, requested: boolean | undefined, label: string): boolean {
  if (requested === true && !gpu.hasSubgroups) {
    throw new Error(`${label}: the subgroup variant was requested but the device has no 'subgroups' feature ` +
      `(adapter without it, or disabled with disableFeatures)`);
  }
  return requested ?? (gpu.hasSubgroups && !flags.noSubgroups);
}

/** Whether a kernel may use its shader-f16 variant on `gpu`: `requested` (a test's choice) or the device default. */
export function useF16(gpu: Gpu, requested: boolean | undefined, label: string): boolean {
  if (requested === true && !gpu.hasF16) {
    throw new Error(`${label}: the f16 variant was requested but the device has no 'shader-f16' feature ` +
      `(adapter without it, or disabled with disableFeatures)`);
  }
  // by default only once the device's self-test proved the variant bit-identical here (src/ops/f16_check.ts)
  return requested ?? (gpu.hasF16 && !flags.noF16 && gpu.f16Check?.ok === true);
}

const cache = new Map<string, string>();

/** The text of `code`'s variant; `label` names the shader in errors. Memoized by (variant, code). */
export function wgslVariant(label: string, code: string, v: ShaderVariant): string {
  const key = `${v.subgroups ? 1 : 0}|${code}`;
  let out = cache.get(key);
  if (out === undefined) {
    const text = preprocess(label, code, { SUBGROUPS: v.subgroups });
    out = v.subgroups ? `enable subgroups;\n${text}\n${subgroupReduce}` : text;
    cache.set(key, out);
  }
  return out;
}

/** Keeps the lines of the `// #if NAME` / `// #else` branches selected by `defs`; the directive lines become blank. */
export function preprocess(label: string, code: string, defs: Partial<Record<(typeof NAMES)[number], boolean>>): string {
  const lines = code.split('\n');
  let open: { name: string; line: number; keep: boolean; inElse: boolean } | null = null;
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = /^\s*\/\/ #(if|else|endif)\b\s*(\w*)\s*$/.exec(line);
    const where = `${label}.wgsl line ${i + 1}`;
    if (!m) {
      out.push(!open || open.keep !== open.inElse ? line : '');
      return;
    }
    const [, dir, name] = m;
    if (dir === 'if') {
      if (open) throw new Error(`${where}: nested "// #if" (the one at line ${open.line} is still open)`);
      if (!(NAMES as readonly string[]).includes(name)) throw new Error(`${where}: unknown "// #if ${name}" (known: ${NAMES.join(', ')})`);
      open = { name, line: i + 1, keep: defs[name as (typeof NAMES)[number]] === true, inElse: false };
    } else if (dir === 'else') {
      if (!open || open.inElse) throw new Error(`${where}: "// #else" without an open "// #if"`);
      open.inElse = true;
    } else {
      if (!open) throw new Error(`${where}: "// #endif" without an open "// #if"`);
      open = null;
    }
    out.push('');
  });
  if (open) throw new Error(`${label}.wgsl: "// #if ${(open as { name: string }).name}" at line ${(open as { line: number }).line} has no "// #endif"`);
  return out.join('\n');
}
