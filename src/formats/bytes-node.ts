// Node-only byte source over a file path (fs.open + positional reads). Used by the CLI and tests; the browser
// uses blobSource / the stored-file source instead.
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkRange, type ByteSource } from './bytes.ts';

export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

/** Opens `path` for random reads. Close it when done (the CLI reads many tensors through one handle). */
export async function openFileSource(path: string): Promise<FileByteSource> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new Error(`cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  const size = (await fh.stat()).size;
  const src: FileByteSource = {
    name: basename(path),
    size,
    async read(offset, length) {
      checkRange(src, offset, length);
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(out, got, length - got, offset + got);
        if (bytesRead === 0) throw new RangeError(`${path}: file shrank while reading (offset ${offset + got} of ${size})`);
        got += bytesRead;
      }
      return out;
    },
    close: () => fh.close(),
  };
  return src;
}
