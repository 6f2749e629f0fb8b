// Checkpoints on the filesystem (Node): <out>/checkpoint-<step>/ written into a temporary folder, flushed, then
// renamed into place, so a crash mid-write leaves the previous checkpoint valid (a half-written temp folder is
// ignored, and removed by the next list()). A full disk fails the save with a message giving the sizes; the
// previous checkpoints stay. Fault point `checkpoint` (flags.ts): kill or ENOSPC after the first file.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CheckpointFile, CheckpointStore } from '../train/checkpoint.ts';
import { isDiskFull, spaceNote, writeFolderAtomic } from './common.ts';

export class FsCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string) {}

  async save(name: string, files: CheckpointFile[]): Promise<void> {
    try {
      await writeFolderAtomic(path.join(this.dir, name), files, 'checkpoint', `checkpoint write ${name}`);
    } catch (e) {
      if (isDiskFull(e)) {
        const previous = (await this.list()).at(-1);
        throw new Error(
          `no space left while saving ${name}: ${await spaceNote(this.dir, files)}. ${name} was not written; ` +
            `${previous ? `the previous checkpoint ${previous} is intact` : 'no earlier checkpoint exists'}. Free some space (or point --out elsewhere) and run again with --resume.`,
          { cause: e },
        );
      }
      throw e;
    }
  }

  async load(name: string): Promise<Map<string, Uint8Array> | null> {
    const dir = path.join(this.dir, name);
    if (!existsSync(dir)) return null;
    const out = new Map<string, Uint8Array>();
    for (const f of await readdir(dir)) out.set(f, new Uint8Array(await readFile(path.join(dir, f))));
    return out;
  }

  async list(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const all = await readdir(this.dir);
    // a temporary folder of another process is what a crash mid-write left behind
    for (const n of all) if (n.startsWith('.tmp-') && !n.endsWith(`-${process.pid}`)) await rm(path.join(this.dir, n), { recursive: true, force: true });
    const names = all.filter((n) => /^checkpoint-\d+$/.test(n));
    return names.sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  }

  async remove(name: string): Promise<void> {
    await rm(path.join(this.dir, name), { recursive: true, force: true });
  }
}

export async function writeJsonLine(file: string, obj: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(obj) + '\n', { flag: 'a' });
}
