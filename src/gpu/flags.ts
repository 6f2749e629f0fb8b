// Debug switches, one place, each documented. Off by default. Set them in Node with the environment variable
// REWARD_STUDIO_FLAGS (comma-separated names, e.g. REWARD_STUDIO_FLAGS=printWgsl,checkEveryStep npm run cli -- …),
// or anywhere with setFlags() (tests, the worker).
export interface Flags {
  /** Log each shader's WGSL (with its label) when its module is compiled. */
  printWgsl: boolean;
  /** Run every training micro-step inside GPU error scopes, not only the first of each shape: a validation or
   *  out-of-memory error then names the exact step (slow: it waits for the GPU every micro-step). */
  checkEveryStep: boolean;
  /** CLI: print the stack of unexpected errors. */
  stackTraces: boolean;
  /** Ignore the GEMM autotuner's measured tile choices (src/ops/matmul_tune.ts): every product gets the
   *  deterministic default tile of chooseTile. */
  noGemmAutotune: boolean;
}

export const flags: Flags = { printWgsl: false, checkEveryStep: false, stackTraces: false, noGemmAutotune: false };

export function setFlags(f: Partial<Flags>): void {
  Object.assign(flags, f);
}

function fromEnv(): void {
  const env = typeof process !== 'undefined' ? process.env?.REWARD_STUDIO_FLAGS : undefined;
  if (!env) return;
  for (const name of env.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(name in flags)) throw new Error(`REWARD_STUDIO_FLAGS: unknown flag "${name}" (known: ${Object.keys(flags).join(', ')})`);
    (flags as unknown as Record<string, boolean>)[name] = true;
  }
}
fromEnv();
