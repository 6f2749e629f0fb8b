// Evaluate & compare in the train worker: compare two responses, batch scoring and eval accuracy, with either the
// model of this tab's run (training paused or finished, or a stored run opened from its checkpoint) or a model
// folder loaded for evaluation (eval_model.ts: a PEFT adapter on a base model, or a full reward model). Token ids
// come from the data worker, tokenized with the scoring model's tokenizer.
import type { Gpu } from '../gpu/device.ts';
import type { FileStore } from '../data/storage.ts';
import type { TokenizedPair } from '../train/batches.ts';
import type { TrainSession } from '../train/session.ts';
import { pairMetrics, scorePairs, scoreSequences } from '../train/trainer.ts';
import type { DataPort } from './data_port.ts';
import { loadBaseModel, loadModelFolder, type EvalModel } from './eval_model.ts';
import { bestOfNMetrics, filterBestOfN, flattenBestOfN } from '../data/best_of_n.ts';
import { modelFiles } from './model_files.ts';
import { pairScore, type Area, type BatchPairs, type DatasetRef, type EvalSource, type ImportError, type ModelRef, type Request, type TokenizerRef, type WorkerEvent } from './protocol.ts';

/** A user-facing problem with what was asked (message says what, fix says what to do). */
export class EvalUserError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** Default max_length for evaluating a loaded model (TRL's RewardConfig default). */
const DEFAULT_EVAL_MAX_LENGTH = 1024;

export interface EvalContext {
  post: (ev: WorkerEvent) => void;
  getGpu: () => Promise<Gpu>;
  getStore: () => Promise<FileStore | null>;
  port: () => DataPort;
  fail: (rid: number | undefined, where: Area, e: unknown) => void;
  /**
   * The run's session (runId: that stored run, opened from its last checkpoint when another or none is loaded),
   * or null (and the reason posted) when none is usable now.
   */
  needSession: (rid: number, where: Area, runId?: string) => Promise<RunSessionInfo | null>;
  /** The data in words (an import's file name, a Hub repo, the demo set). */
  describeData: (ref: DatasetRef) => Promise<string>;
}

/** The session of a run with what it was trained on. */
export interface RunSessionInfo {
  session: TrainSession;
  model: ModelRef;
  dataset: DatasetRef;
  runId: string;
  /** "demo model, run my-run (step 30)". */
  modelName: string;
}

/** What scores: the run's session or the loaded folder, behind one shape. */
interface Scorer {
  tokenizer: TokenizerRef;
  step: number | null;
  /** The model in words, and (a run) its own data and id. */
  modelName: string;
  runDataset: DatasetRef | null;
  runId: string | null;
  /** Longest sequence accepted (the run's max_length bucket, or the loaded model's positions). */
  maxT: number;
  score(seqs: ArrayLike<number>[]): Promise<Float32Array>;
  scorePairs(pairs: TokenizedPair[]): Promise<{ chosen: Float32Array; rejected: Float32Array }>;
}

function longestOf(seqs: ArrayLike<number>[]): number {
  let n = 1;
  for (const s of seqs) n = Math.max(n, s.length);
  return n;
}

export type EvalRequest = Extract<Request, { type: 'load-model' | 'load-base' | 'unload-model' | 'score-pair' | 'score-batch' | 'evaluate' | 'eval-pair-text' | 'best-of-n' }>;

export function createEvalHandler(ctx: EvalContext): { handle(req: EvalRequest): Promise<void>; loaded(): EvalModel | null } {
  const { post } = ctx;
  let evalModel: EvalModel | null = null;
  let loads = 0;
  /** The pairs of the last eval report (for their text on click) and the tokenizer that made them. */
  let lastEval: { pairs: TokenizedPair[]; tokenizer: TokenizerRef } | null = null;

  const scorerOf = async (rid: number, source: EvalSource, runId?: string): Promise<Scorer | null> => {
    const gpu = await ctx.getGpu();
    if (source === 'loaded') {
      const m = evalModel;
      if (!m) {
        post({ type: 'error', rid, where: 'evaluate', message: 'No model folder is loaded.', fix: 'Load an adapter or model folder under "Model to evaluate", or choose this tab\'s run.' });
        return null;
      }
      const onnx = m.onnx;
      if (onnx) {
        return {
          tokenizer: m.tokenizer, step: null, maxT: m.maxPositions,
          modelName: `ONNX folder ${m.info.name}`, runDataset: null, runId: null,
          score: (seqs) => onnx.score(seqs, 8),
          scorePairs: async (pairs) => {
            const r = await onnx.score(pairs.flatMap((p) => [p.chosen_ids, p.rejected_ids]), 8);
            return { chosen: r.filter((_, i) => i % 2 === 0), rejected: r.filter((_, i) => i % 2 === 1) };
          },
        };
      }
      return {
        tokenizer: m.tokenizer,
        step: null,
        modelName: `${m.info.kind === 'adapter' ? 'adapter' : 'model'} folder ${m.info.name}`,
        runDataset: null,
        runId: null,
        maxT: m.maxPositions,
        score: (seqs) => scoreSequences(gpu, m.modelFor(longestOf(seqs)), seqs),
        scorePairs: (pairs) => scorePairs(gpu, m.modelFor(longestOf(pairs.flatMap((p) => [p.chosen_ids, p.rejected_ids]))), pairs, m.microPairs),
      };
    }
    const run = await ctx.needSession(rid, 'evaluate', runId);
    if (!run) return null;
    const { session } = run;
    return {
      tokenizer: run.model,
      step: session.trainer.state.global_step,
      modelName: run.modelName,
      runDataset: run.dataset,
      runId: run.runId,
      maxT: session.loaded.model.opts.maxT,
      score: (seqs) => session.score(seqs),
      scorePairs: (pairs) => scorePairs(gpu, session.loaded.model, pairs, session.microPairs),
    };
  };

  /** Sequences longer than the scorer takes cannot be scored; say which and how to fix it. */
  const checkLengths = (s: Scorer, seqs: ArrayLike<number>[], what: string) => {
    const long = seqs.findIndex((q) => q.length > s.maxT);
    if (long >= 0) throw new EvalUserError(`${what} ${long + 1} has ${seqs[long].length} tokens; the model takes at most ${s.maxT}.`, 'Shorten it, or (for a run) raise max_length in Configure and train again.');
  };

  /** The last scored pair file's pairs (for their text on click). */
  let lastBatch: { pairs: TokenizedPair[]; tokenizer: TokenizerRef } | null = null;

  /**
   * Batch scoring of a file of preference pairs: both rewards of every valid pair, TRL's pair metrics (accuracy,
   * margins), and a JSONL with one line per pair naming its file line.
   */
  const scoreBatchPairs = async (rid: number, fileName: string, s: Scorer, pairs: TokenizedPair[], lines: number[], errors: ImportError[], errorCount: number) => {
    if (pairs.length === 0) {
      const first = errors[0];
      throw new EvalUserError(
        `${fileName}: no valid pair to score (${errorCount} invalid line${errorCount === 1 ? '' : 's'}${first ? `; line ${first.line}${first.field ? `, ${first.field}` : ''}: ${first.message}` : ''}).`,
        'Each line must be a TRL preference pair: chosen and rejected (conversations or text, optionally prompt and margin) or chosen_ids and rejected_ids.',
      );
    }
    pairs.forEach((p, i) => {
      for (const [which, ids] of [['chosen', p.chosen_ids], ['rejected', p.rejected_ids]] as const) {
        if (ids.length > s.maxT) throw new EvalUserError(`${fileName}: line ${lines[i] ?? i + 1}, ${which}: ${ids.length} tokens; the model takes at most ${s.maxT}.`, 'Shorten that pair or leave it out, or (for a run) raise max_length in Configure and train again.');
      }
    });
    const { chosen, rejected } = await s.scorePairs(pairs);
    const metrics = pairMetrics(chosen, rejected, pairs.map((p) => p.margin ?? 0));
    lastBatch = { pairs, tokenizer: s.tokenizer };
    const text = pairs.map((_, i) => JSON.stringify({ line: lines[i] ?? i + 1, chosen_reward: chosen[i], rejected_reward: rejected[i], margin: chosen[i] - rejected[i], correct: chosen[i] > rejected[i] })).join('\n') + '\n';
    const name = fileName.replace(/\.jsonl?$/i, '') + '.scores.jsonl';
    const batch: BatchPairs = {
      metrics,
      chosenRewards: [...chosen],
      rejectedRewards: [...rejected],
      chosenLengths: pairs.map((p) => p.chosen_ids.length),
      rejectedLengths: pairs.map((p) => p.rejected_ids.length),
      lines: pairs.map((_, i) => lines[i] ?? i + 1),
    };
    post({ type: 'score-batch-result', rid, rows: pairs.length, file: { name, data: new TextEncoder().encode(text) }, errors, errorCount, pairs: batch });
  };

  /** Drops the loaded adapter/model folder (one at a time), telling the page. */
  const unloadEvalModel = () => {
    if (!evalModel) return;
    evalModel.destroy();
    evalModel = null;
    post({ type: 'model-unloaded', rid: 0 });
  };

  const handle = async (req: EvalRequest): Promise<void> => {
    switch (req.type) {
      case 'load-model':
        try {
          const gpu = await ctx.getGpu();
          const store = await ctx.getStore();
          unloadEvalModel();
          const { model, warnings } = await loadModelFolder(gpu, { files: req.files, name: req.name, base: req.base, baseFiles: () => modelFiles(req.base, store), tokenizerKey: `loaded-${++loads}` });
          evalModel = model;
          for (const w of warnings) post({ type: 'warning', where: 'evaluate', message: w });
          post({ type: 'model-loaded', rid: req.rid, info: model.info });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      case 'load-base':
        try {
          const gpu = await ctx.getGpu();
          const store = await ctx.getStore();
          unloadEvalModel();
          evalModel = await loadBaseModel(gpu, { base: req.model, baseFiles: () => modelFiles(req.model, store), seed: req.seed });
          post({ type: 'model-loaded', rid: req.rid, info: evalModel.info });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      case 'unload-model':
        evalModel?.destroy();
        evalModel = null;
        post({ type: 'model-unloaded', rid: req.rid });
        return;
      case 'score-pair': {
        const source = req.source ?? 'run';
        try {
          const s = await scorerOf(req.rid, source, req.runId);
          if (!s) return;
          const last = req.conversation[req.conversation.length - 1];
          if (!last || last.role === 'assistant') throw new EvalUserError('The conversation must end with a user (or system) turn.', 'Remove the final assistant turn: the two responses are what is compared.');
          const chats = [req.responseA, req.responseB].map((r) => [...req.conversation, { role: 'assistant' as const, content: r }]);
          const { ids } = await ctx.port().request({ type: 'tokenize-chats', model: s.tokenizer, chats }, 'token-ids');
          checkLengths(s, ids, 'Response');
          const r = await s.score(ids);
          post({ type: 'score-pair-result', rid: req.rid, score: pairScore(r[0], r[1]), source });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      }
      case 'score-batch':
        try {
          const s = await scorerOf(req.rid, req.source ?? 'run', req.runId);
          if (!s) return;
          const reply = await ctx.port().request({ type: 'tokenize-score-file', model: s.tokenizer, file: req.file }, 'token-ids');
          const errors = reply.errors ?? [];
          const errorCount = reply.errorCount ?? errors.length;
          if (reply.pairs) {
            await scoreBatchPairs(req.rid, req.file.name, s, reply.pairs as TokenizedPair[], reply.lines ?? [], errors, errorCount);
            return;
          }
          if (reply.ids.length === 0) throw new EvalUserError(`${req.file.name}: no record to score (${reply.errorCount ?? 0} invalid lines).`, 'Each line must be {"messages": [...]}, {"text": "..."} or {"input_ids": [...]}.');
          checkLengths(s, reply.ids, 'Record');
          const r = await s.score(reply.ids);
          const text = [...r].map((reward, index) => JSON.stringify({ index, reward })).join('\n') + '\n';
          const name = req.file.name.replace(/\.jsonl?$/i, '') + '.scores.jsonl';
          post({ type: 'score-batch-result', rid: req.rid, rows: r.length, file: { name, data: new TextEncoder().encode(text) }, errors, errorCount });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      case 'evaluate': {
        const source = req.source ?? 'run';
        try {
          const s = await scorerOf(req.rid, source, req.runId);
          if (!s) return;
          // a run evaluates its own data (whatever is selected in Model & data now)
          const dataset = s.runDataset ?? req.dataset;
          // a run evaluates what its max_length allowed it to train on; a loaded model what the request asks
          const maxLength = source === 'run' ? s.maxT : Math.min(s.maxT, req.maxLength ?? DEFAULT_EVAL_MAX_LENGTH);
          const t = await ctx.port().request({ type: 'get-tokenized', dataset, model: s.tokenizer, maxLength, split: req.split }, 'tokenized');
          if (t.pairs.length === 0) throw new EvalUserError(`No "${req.split}" pair fits in ${maxLength} tokens.`, 'Evaluate on shorter data, or raise max_length in Configure.');
          const pairs = t.pairs as TokenizedPair[];
          const { chosen, rejected } = await s.scorePairs(pairs);
          const m = pairMetrics(chosen, rejected, pairs.map((p) => p.margin ?? 0));
          const metrics: Record<string, number> = {};
          for (const [k, v] of Object.entries(m)) metrics[`eval_${k}`] = v;
          if (t.filtered) post({ type: 'warning', where: 'evaluate', message: `${t.filtered} of ${t.total} pairs are longer than ${maxLength} tokens and were not scored.` });
          lastEval = { pairs, tokenizer: s.tokenizer };
          const report = {
            step: s.step,
            split: req.split,
            data: `${await ctx.describeData(dataset)}, ${req.split} split (${pairs.length} pairs)`,
            model: s.modelName,
            runId: s.runId,
            metrics,
            chosenRewards: [...chosen],
            rejectedRewards: [...rejected],
            chosenLengths: pairs.map((p) => p.chosen_ids.length),
            rejectedLengths: pairs.map((p) => p.rejected_ids.length),
            scored: { dataset, split: req.split, scored: pairs.length, filtered: t.filtered },
          };
          post({ type: 'eval-report', rid: req.rid, source, report });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      }
      case 'eval-pair-text':
        try {
          const from = req.from ?? 'eval';
          const last = from === 'batch' ? lastBatch : lastEval;
          const pair = last?.pairs[req.index];
          if (!last || !pair) throw new EvalUserError(`No pair ${req.index + 1} in the last ${from === 'batch' ? 'scored file' : 'evaluation'}.`, from === 'batch' ? 'Score the file again, then pick a row.' : 'Press Evaluate again, then pick a row.');
          const { texts } = await ctx.port().request({ type: 'decode', model: last.tokenizer, ids: [Int32Array.from(pair.chosen_ids), Int32Array.from(pair.rejected_ids)] }, 'texts');
          post({ type: 'eval-pair-text', rid: req.rid, index: req.index, chosen: texts[0], rejected: texts[1], from });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      case 'best-of-n': {
        const source = req.source ?? 'run';
        try {
          const s = await scorerOf(req.rid, source);
          if (!s) return;
          const maxLength = source === 'run' ? s.maxT : Math.min(s.maxT, req.maxLength ?? DEFAULT_EVAL_MAX_LENGTH);
          const reply = await ctx.port().request({ type: 'tokenize-best-of-n', model: s.tokenizer, file: req.file }, 'best-of-n-ids');
          let o = 0;
          const recs = reply.records.map((r) => {
            const chosen = reply.ids.slice(o, o + r.chosen);
            const rejected = reply.ids.slice(o + r.chosen, o + r.chosen + r.rejected);
            o += r.chosen + r.rejected;
            return { place: r.place, subset: r.subset, chosen, rejected };
          });
          const { kept, filtered } = filterBestOfN(recs, maxLength);
          if (kept.length === 0) throw new EvalUserError(`${req.file.name}: no record fits in ${maxLength} tokens.`, 'Evaluate on shorter responses, or raise max_length in Configure.');
          const r = bestOfNMetrics(kept, await s.score(flattenBestOfN(kept)), filtered);
          if (filtered) post({ type: 'warning', where: 'evaluate', message: `${filtered} of ${recs.length} best-of-N records have a response longer than ${maxLength} tokens and were not scored.` });
          const report = { file: req.file.name, step: s.step, accuracy: r.accuracy, subset_mean_accuracy: r.subset_mean_accuracy, records: r.records, filtered, subsets: r.subsets };
          post({ type: 'best-of-n-report', rid: req.rid, source, report });
        } catch (e) {
          ctx.fail(req.rid, 'evaluate', e);
        }
        return;
      }
    }
  };

  return { handle, loaded: () => evalModel };
}
