// Running an ONNX reward model with onnxruntime-web: the WASM backend in Node, the WebGPU execution provider in a
// browser when it is available (WASM otherwise). onnxruntime-web is imported dynamically here and nowhere else,
// so bundlers put it (and its .wasm) in a chunk of its own that loads only when an ONNX feature is used.
//
// Inputs are what ORTModelForSequenceClassification feeds: input_ids and attention_mask (B,T) int64, right-padded
// with pad_token_id, mask 1 on the real tokens; output logits (B,1) → one reward per sequence.
import type * as Ort from 'onnxruntime-web';

export type OnnxProvider = 'wasm' | 'webgpu';

export interface OnnxRewardSession {
  /** The execution provider the session was created with. */
  provider: OnnxProvider;
  inputNames: readonly string[];
  /** One reward per sequence, in order; `batchSize` sequences per run. */
  score(seqs: ArrayLike<number>[], batchSize?: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface OpenOptions {
  padId: number;
  /** 'auto': webgpu when navigator.gpu exists (browser), else wasm. */
  provider?: OnnxProvider | 'auto';
  /** model.onnx_data when the model uses external data. */
  externalData?: Uint8Array;
  externalDataPath?: string;
}

let ortPromise: Promise<typeof Ort> | null = null;

/** The onnxruntime-web module, loaded once on first use. */
export function loadOrt(): Promise<typeof Ort> {
  ortPromise ??= import('onnxruntime-web').then((m) => {
    const ort = ((m as { default?: typeof Ort }).default ?? m) as typeof Ort;
    // One thread in Node (worker threads buy nothing on these sizes); in a page ORT picks its own.
    if (typeof window === 'undefined' && typeof self === 'undefined') ort.env.wasm.numThreads = 1;
    // ORT's warnings (e.g. shape ops placed on the CPU next to the WebGPU EP) go to console.error; keep errors only
    ort.env.logLevel = 'error';
    return ort;
  });
  return ortPromise;
}

function hasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && !!(navigator as { gpu?: unknown }).gpu;
}

export async function openOnnxRewardModel(model: Uint8Array, o: OpenOptions): Promise<OnnxRewardSession> {
  const ort = await loadOrt();
  const want = o.provider ?? 'auto';
  const providers: OnnxProvider[] = want === 'auto' ? (hasWebGpu() ? ['webgpu', 'wasm'] : ['wasm']) : [want];
  const opts: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only
    ...(o.externalData ? { externalData: [{ path: o.externalDataPath ?? 'model.onnx_data', data: o.externalData }] } : {}),
  };
  let session: Ort.InferenceSession | null = null;
  let provider: OnnxProvider = providers[0];
  let lastErr: unknown = null;
  for (const p of providers) {
    try {
      session = await ort.InferenceSession.create(model, { ...opts, executionProviders: [p] });
      provider = p;
      break;
    } catch (e) {
      lastErr = e;
    }
  }
  if (!session) throw new Error(`onnxruntime-web could not open the model: ${(lastErr as Error)?.message ?? lastErr}`);
  const s = session;
  for (const name of ['input_ids', 'attention_mask']) {
    if (!s.inputNames.includes(name)) throw new Error(`the ONNX model has inputs [${s.inputNames.join(', ')}]; a reward model needs input_ids and attention_mask`);
  }
  if (!s.outputNames.includes('logits')) throw new Error(`the ONNX model has outputs [${s.outputNames.join(', ')}]; a reward model needs logits`);
  const extra = s.inputNames.filter((n) => n !== 'input_ids' && n !== 'attention_mask' && n !== 'position_ids');
  if (extra.length) throw new Error(`the ONNX model needs inputs this scorer does not provide: ${extra.join(', ')}`);

  return {
    provider,
    inputNames: s.inputNames,
    async score(seqs, batchSize = 8) {
      const out = new Float32Array(seqs.length);
      for (let start = 0; start < seqs.length; start += batchSize) {
        const part = seqs.slice(start, start + batchSize);
        const B = part.length;
        const T = Math.max(1, ...part.map((x) => x.length));
        const ids = new BigInt64Array(B * T).fill(BigInt(o.padId));
        const mask = new BigInt64Array(B * T);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < part[b].length; t++) {
            ids[b * T + t] = BigInt(part[b][t]);
            mask[b * T + t] = 1n;
          }
        }
        const feeds: Record<string, Ort.Tensor> = {
          input_ids: new ort.Tensor('int64', ids, [B, T]),
          attention_mask: new ort.Tensor('int64', mask, [B, T]),
        };
        if (s.inputNames.includes('position_ids')) {
          const pos = new BigInt64Array(B * T);
          for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = BigInt(t);
          feeds.position_ids = new ort.Tensor('int64', pos, [B, T]);
        }
        const res = await s.run(feeds);
        const logits = res.logits;
        const data = (await logits.getData()) as Float32Array;
        if (logits.dims.length !== 2 || logits.dims[0] !== B || logits.dims[1] < 1) throw new Error(`the ONNX model returned logits of shape [${logits.dims.join(', ')}]; a reward model returns [batch, 1]`);
        const stride = logits.dims[1];
        for (let b = 0; b < B; b++) out[start + b] = data[b * stride];
        for (const t of Object.values(res)) t.dispose();
      }
      return out;
    },
    release: () => s.release(),
  };
}

export interface VerifyResult {
  /** max |r_onnx − r_engine| */
  maxAbsDiff: number;
  /** maxAbsDiff / max |r_engine| (the rewards' scale) */
  maxRelDiff: number;
  sequences: number;
  provider: OnnxProvider;
  tolerance: number;
  ok: boolean;
}

/** Relative tolerance of a verification: f32 weights ≤ 1e-3; f16 weights (rounded to 11 significant bits) ≤ 5e-3. */
export const VERIFY_TOLERANCE = { float32: 1e-3, float16: 5e-3 } as const;

export function compareRewards(onnx: ArrayLike<number>, engine: ArrayLike<number>, provider: OnnxProvider, tolerance: number): VerifyResult {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < engine.length; i++) {
    const d = Math.abs(onnx[i] - engine[i]);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    scale = Math.max(scale, Math.abs(engine[i]));
  }
  const maxRelDiff = maxAbs / Math.max(scale, 1e-12);
  return { maxAbsDiff: maxAbs, maxRelDiff, sequences: engine.length, provider, tolerance, ok: maxRelDiff <= tolerance };
}

export function verifyLine(v: VerifyResult): string {
  return `${v.ok ? 'verified' : 'NOT verified'}: onnxruntime-web (${v.provider}) vs the WGSL engine on ${v.sequences} sequences, ` +
    `max |Δreward| ${v.maxAbsDiff.toExponential(2)} (${v.maxRelDiff.toExponential(2)} of the largest |reward|; tolerance ${v.tolerance})`;
}
