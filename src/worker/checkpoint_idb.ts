// Runs and their checkpoints in IndexedDB, so a reload or a crashed tab resumes a run from its last checkpoint.
//   runs         one record per run: its config, model, dataset, last checkpoint and state
//   checkpoints  [runId, name] → the checkpoint's files, written in one transaction (all or nothing)
// Only the newest KEEP checkpoints of a run are kept.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { CheckpointFile, CheckpointStore } from '../train/checkpoint.ts';
import type { ConfigJson, DatasetRef, ModelRef } from './protocol.ts';

export const RUNS_DB = 'reward-studio-runs';
const KEEP = 2;

export interface RunRecord {
  id: string;
  createdAt: number;
  config: ConfigJson;
  model: ModelRef;
  dataset: DatasetRef;
  /** Step of the newest complete checkpoint (null before the first). */
  lastCheckpoint: number | null;
  maxSteps: number | null;
  state: 'running' | 'stopped' | 'done' | 'error';
  /** The GPU memory budget the run was planned with (its micro-batch size); absent in records before it was kept. */
  budgetBytes?: number;
  /** The adapter folder a continued run started from (its name as chosen). */
  continuedFrom?: string;
}

interface RunsDb extends DBSchema {
  runs: { key: string; value: RunRecord };
  checkpoints: { key: [string, string]; value: { files: CheckpointFile[]; step: number } };
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
        const old = (await names()).filter((n) => n !== name);
        const tx = db.transaction(['checkpoints', 'runs'], 'readwrite');
        await tx.objectStore('checkpoints').put({ files, step }, [runId, name]);
        for (const n of old.slice(0, Math.max(0, old.length - (KEEP - 1)))) await tx.objectStore('checkpoints').delete([runId, n]);
        const run = await tx.objectStore('runs').get(runId);
        if (run) await tx.objectStore('runs').put({ ...run, lastCheckpoint: step });
        await tx.done;
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
