// Checkpoints on the filesystem (Node): <out>/checkpoint-<step>/ written into a temporary folder, flushed, then
// renamed into place, so a crash mid-write leaves the previous checkpoint valid (a half-written temp folder is
// ignored and cleaned up). A full disk fails the save with a message; the previous checkpoints stay.
import { mkdir, readdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CheckpointFile, CheckpointStore } from '../train/checkpoint.ts';

export class FsCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string) {}

  async save(name: string, files: CheckpointFile[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.tmp-${name}-${process.pid}`);
    const final = path.join(this.dir, name);
    await rm(tmp, { recursive: true, force: true });
    try {
      await mkdir(tmp);
      for (const f of files) {
        const fh = await open(path.join(tmp, f.name), 'w');
        try {
          await fh.writeFile(f.data);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      if (existsSync(final)) await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
        throw new Error(`no space left on the disk holding ${this.dir} while saving ${name}; the previous checkpoints are intact. Free some space (or point --out elsewhere) and resume.`, { cause: e });
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
    const names = (await readdir(this.dir)).filter((n) => /^checkpoint-\d+$/.test(n));
    return names.sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  }

  async remove(name: string): Promise<void> {
    await rm(path.join(this.dir, name), { recursive: true, force: true });
  }
}

export async function writeJsonLine(file: string, obj: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(obj) + '\n', { flag: 'a' });
}
