// Runs and their checkpoints in IndexedDB, so a reload or a crashed tab resumes a run from its last checkpoint.
//   runs         one record per run: its config, model, dataset, last checkpoint and state
//   checkpoints  [runId, name] → the checkpoint's files, written in one transaction (all or nothing)
// Only the newest KEEP save_steps checkpoints of a run are kept, plus at most one recovery checkpoint
// (`recovery-<step>`, written on a time interval and when the page is hidden) newer than them. A full store
// (QuotaExceededError) aborts the transaction: the previous checkpoint and the run's lastCheckpoint stay as they were,
// and the error gives the sizes. Fault point `checkpoint` (flags.ts `quota@checkpoint:N`) injects that error inside
// the transaction.
import type { ActivationDtypeChoice } from '../train/activation_dtype.ts';
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { faultAt } from '../gpu/flags.ts';
import { formatBytes, isQuotaError } from '../data/storage.ts';
import { RECOVERY_PREFIX, type CheckpointFile, type CheckpointStore } from '../train/checkpoint.ts';
import type { ConfigJson, DatasetRef, ModelRef } from './protocol.ts';

export const RUNS_DB = 'reward-studio-runs';
const KEEP = 2;

export interface RunRecord {
  id: string;
  createdAt: number;
  config: ConfigJson;
  model: ModelRef;
  dataset: DatasetRef;
  /** The user's name for it (rename in Train). */
  name?: string;
  /** Step of the newest complete checkpoint (null before the first). */
  lastCheckpoint: number | null;
  /** True when that checkpoint is a recovery one (`recovery-<step>`). */
  lastCheckpointRecovery?: boolean;
  /** The log history of that checkpoint (its trainer_state.json's), so the charts load without the checkpoint. */
  logHistory?: Record<string, number>[];
  maxSteps: number | null;
  state: 'running' | 'stopped' | 'done' | 'error';
  /** The GPU memory budget the run was planned with (its micro-batch size); absent in records before it was kept. */
  budgetBytes?: number;
  /** The activation storage setting the run was planned with (auto when absent). */
  activationDtype?: ActivationDtypeChoice;
  /** The adapter folder a continued run started from (its name as chosen). */
  continuedFrom?: string;
}

interface RunsDb extends DBSchema {
  runs: { key: string; value: RunRecord };
  checkpoints: { key: [string, string]; value: { files: CheckpointFile[]; step: number } };
}

/** log_history of a checkpoint's trainer_state.json (empty when absent). */
function logHistoryOf(files: CheckpointFile[]): Record<string, number>[] {
  const f = files.find((x) => x.name === 'trainer_state.json');
  if (!f) return [];
  try {
    return (JSON.parse(new TextDecoder().decode(f.data)) as { log_history?: Record<string, number>[] }).log_history ?? [];
  } catch {
    return [];
  }
}

export class RunStore {
  private constructor(private readonly db: IDBPDatabase<RunsDb>) {}

  static async open(name = RUNS_DB): Promise<RunStore> {
    const db = await openDB<RunsDb>(name, 1, {
      upgrade(d) {
        d.createObjectStore('runs', { keyPath: 'id' });
        d.createObjectStore('checkpoints');
      },
    });
    return new RunStore(db);
  }

  async putRun(r: RunRecord): Promise<void> {
    await this.db.put('runs', r);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.db.get('runs', id);
  }

  async updateRun(id: string, patch: Partial<RunRecord>): Promise<void> {
    const tx = this.db.transaction('runs', 'readwrite');
    const r = await tx.store.get(id);
    if (r) await tx.store.put({ ...r, ...patch });
    await tx.done;
  }

  /** Newest first. */
  async listRuns(): Promise<RunRecord[]> {
    return (await this.db.getAll('runs')).sort((a, b) => b.createdAt - a.createdAt);
  }

  async deleteRun(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'checkpoints'], 'readwrite');
    await tx.objectStore('runs').delete(id);
    await tx.objectStore('checkpoints').delete(IDBKeyRange.bound([id, ''], [id, '\uffff']));
    await tx.done;
  }

  /** The CheckpointStore the trainer writes through for run `runId`. */
  checkpoints(runId: string): CheckpointStore {
    const db = this.db;
    const range = IDBKeyRange.bound([runId, ''], [runId, '\uffff']);
    const stepOf = (name: string) => Number(/(\d+)$/.exec(name)?.[1] ?? NaN);
    const names = async () => {
      const keys = (await db.getAllKeys('checkpoints', range)) as [string, string][];
      return keys.map((k) => k[1]).sort((a, b) => stepOf(a) - stepOf(b));
    };
    return {
      async save(name, files) {
        const step = stepOf(name);
        const others = (await names()).filter((n) => n !== name);
        // the newest KEEP save_steps checkpoints stay; a recovery checkpoint is replaced by any newer checkpoint
        const regular = others.filter((n) => !n.startsWith(RECOVERY_PREFIX));
        const drop = [...(name.startsWith(RECOVERY_PREFIX) ? [] : regular.slice(0, Math.max(0, regular.length - (KEEP - 1)))), ...others.filter((n) => n.startsWith(RECOVERY_PREFIX))];
        const fault = faultAt('checkpoint');
        const tx = db.transaction(['checkpoints', 'runs'], 'readwrite');
        try {
          await tx.objectStore('checkpoints').put({ files, step }, [runId, name]);
          if (fault === 'quota') throw new DOMException(`injected at checkpoint write ${name}`, 'QuotaExceededError');
          for (const n of drop) await tx.objectStore('checkpoints').delete([runId, n]);
          const run = await tx.objectStore('runs').get(runId);
          if (run) await tx.objectStore('runs').put({ ...run, lastCheckpoint: step, lastCheckpointRecovery: name.startsWith(RECOVERY_PREFIX), logHistory: logHistoryOf(files) });
          await tx.done;
        } catch (e) {
          try {
            tx.abort();
          } catch {
            // already aborted by the failed request
          }
          await tx.done.catch(() => undefined);
          if (!isQuotaError(e) && !isQuotaError(tx.error)) throw e;
          throw await checkpointQuotaError(name, files, others.at(-1) ?? null);
        }
      },
      async load(name) {
        const v = await db.get('checkpoints', [runId, name]);
        return v ? new Map(v.files.map((f) => [f.name, f.data])) : null;
      },
      list: names,
      async remove(name) {
        await db.delete('checkpoints', [runId, name]);
      },
    };
  }
}

/** The message for a checkpoint the browser's storage had no room for: its size, the space left, what was kept. */
export async function checkpointQuotaError(name: string, files: CheckpointFile[], previous: string | null): Promise<Error> {
  const size = files.reduce((n, f) => n + f.data.byteLength, 0);
  let room = 'the space left is unknown';
  try {
    const { usage = NaN, quota = NaN } = (await globalThis.navigator?.storage?.estimate?.()) ?? {};
    if (Number.isFinite(usage) && Number.isFinite(quota)) room = `${formatBytes(Math.max(0, quota - usage))} left (${formatBytes(usage)} used of ${formatBytes(quota)})`;
  } catch {
    // no estimate: say so
  }
  const err = new Error(
    `The browser's storage is full: ${name} (${formatBytes(size)}) could not be saved, ${room}. ` +
      (previous ? `The previous checkpoint ${previous} is kept and the run can resume from it.` : 'No earlier checkpoint of this run exists.'),
  );
  err.name = 'CheckpointQuotaError';
  (err as Error & { fix: string }).fix = 'Delete stored files or runs you no longer need (Model & data, Train → Stored runs), then resume the run.';
  return err;
}
