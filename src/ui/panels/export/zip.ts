// Zips exported files in the page with fflate (stored, not compressed: safetensors do not compress).
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { OutFile } from '../../../worker/protocol.ts';

export function zipFiles(files: { name: string; data: Uint8Array | string }[]): Uint8Array {
  const z: Zippable = {};
  for (const f of files) z[f.name] = [typeof f.data === 'string' ? strToU8(f.data) : f.data, { level: 0 }];
  return zipSync(z);
}

export function withFolder(folder: string, files: OutFile[]): OutFile[] {
  return files.map((f) => ({ name: `${folder}/${f.name}`, data: f.data }));
}
