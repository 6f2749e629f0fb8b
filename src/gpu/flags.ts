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
  /** Use the portable workgroup-tree variants of the reductions (rmsnorm, grad norm) even where the device has the
   *  `subgroups` feature (src/gpu/variants.ts): to compare the two, or to rule the subgroup variants out. */
  noSubgroups: boolean;
  /** Stage 16-bit weights in f32 in the GEMM's workgroup memory even where the device has `shader-f16` (the
   *  f16 weight tiles of shaders/matmul.wgsl): to compare the two, or to rule the f16 variant out. */
  noF16: boolean;
  /** Run every product on the tiled f32 kernel even where the subgroup-matrix GEMM (src/ops/matmul_sgmat.ts) passed
   *  its self-test: to compare the two, or to rule the variant out. */
  noSubgroupMatrix: boolean;
}

export const flags: Flags = { printWgsl: false, checkEveryStep: false, stackTraces: false, noGemmAutotune: false, noSubgroups: false, noF16: false, noSubgroupMatrix: false };

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

// Fault injection, for the soak harness (`npm run soak`, tools/soak/) and its short versions in the test suite. Off
// unless set: REWARD_STUDIO_FAULTS in Node (comma-separated), setFaults() anywhere (tests, a worker). Each entry is
// `<fault>@<point>:<n>` and fires once, at the n-th time the point is reached (for `step`, at optimizer step n):
//   kill@step:N          SIGKILL the process after step N's micro-steps were submitted (mid-step)
//   kill@checkpoint:N    SIGKILL after the first file of the N-th checkpoint save was written (mid-write)
//   kill@export:N        SIGKILL after the first file of the N-th export was written (CLI)
//   device-lost@step:N   device.destroy() after step N's micro-steps were submitted, reported as a lost device
//   nan-grad@step:N      a NaN written into the first trainable gradient of step N (before the optimizer)
//   inf-grad@step:N      the same with +Infinity
//   enospc@checkpoint:N  the N-th checkpoint save fails after its first file as a full disk would (ENOSPC, Node)
//   quota@checkpoint:N   the N-th checkpoint save fails with IndexedDB's QuotaExceededError (browser store)
//   enospc@download:N    the N-th downloaded chunk appended to the filesystem store fails as a full disk would
export const FAULT_KINDS = ['kill', 'device-lost', 'nan-grad', 'inf-grad', 'enospc', 'quota'] as const;
export const FAULT_POINTS = ['step', 'checkpoint', 'export', 'download'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultPoint = (typeof FAULT_POINTS)[number];
export interface Fault {
  kind: FaultKind;
  point: FaultPoint;
  n: number;
}

let faults: Fault[] = [];
const reached = new Map<FaultPoint, number>();

export function parseFaults(spec: string): Fault[] {
  return spec.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^([a-z-]+)@([a-z]+):(\d+)$/.exec(s);
    if (!m || !(FAULT_KINDS as readonly string[]).includes(m[1]) || !(FAULT_POINTS as readonly string[]).includes(m[2])) {
      throw new Error(`REWARD_STUDIO_FAULTS: "${s}" is not <fault>@<point>:<n> (faults: ${FAULT_KINDS.join(', ')}; points: ${FAULT_POINTS.join(', ')})`);
    }
    return { kind: m[1] as FaultKind, point: m[2] as FaultPoint, n: Number(m[3]) };
  });
}

/** Replaces the armed faults (a spec string or a list) and resets the counters. */
export function setFaults(f: string | Fault[]): void {
  faults = typeof f === 'string' ? parseFaults(f) : [...f];
  reached.clear();
}

/**
 * Called where a fault may be injected: counts this visit of `point` (or uses `n`, e.g. the step number) and
 * returns the fault armed for it, once, or null. Costs one array scan when nothing is armed.
 */
export function faultAt(point: FaultPoint, n?: number): FaultKind | null {
  if (faults.length === 0) return null;
  const k = n ?? (reached.get(point) ?? 0) + 1;
  if (n === undefined) reached.set(point, k);
  const i = faults.findIndex((f) => f.point === point && f.n === k);
  if (i < 0) return null;
  const [f] = faults.splice(i, 1);
  return f.kind;
}

/** The kill fault: SIGKILL this process (Node; the harness sees it die as `kill -9` would). */
export function killNow(where: string): never {
  if (typeof process === 'undefined' || typeof process.kill !== 'function') throw new Error(`injected kill at ${where} (no process to kill here)`);
  process.stderr.write(`[fault] kill -9 at ${where}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL did not stop the process');
}

/** An injected full disk (what fs calls throw when the disk is full). */
export function enospcError(where: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write (injected at ${where})`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

if (typeof process !== 'undefined' && process.env?.REWARD_STUDIO_FAULTS) setFaults(process.env.REWARD_STUDIO_FAULTS);
