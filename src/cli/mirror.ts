// `npm run mirror -- <folder> [--port 8089] [--host 127.0.0.1] [--cut-after-bytes N]`: serves a folder as a local
// Hugging Face Hub (see src/data/mirror.ts for the layout and endpoints). Point the studio or the CLI at it with
// hubUrl = http://127.0.0.1:8089.
import { createServer } from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createMirrorHandler } from '../data/mirror.ts';

const USAGE = `usage: npm run mirror -- <folder> [--port 8089] [--host 127.0.0.1] [--cut-after-bytes N] [--quiet]

Serves <folder> in the Hugging Face Hub's URL layout:
  <folder>/models/<org>/<name>/...     model repo <org>/<name>
  <folder>/datasets/<org>/<name>/...   dataset repo <org>/<name>
--cut-after-bytes N drops the connection once, at byte N of the first file that reaches it (for testing resume).`;

function fail(msg: string): never {
  console.error(`${msg}\n\n${USAGE}`);
  process.exit(2);
}

async function listRepos(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const type of ['models', 'datasets']) {
    const top = await readdir(join(root, type), { withFileTypes: true }).catch(() => []);
    for (const org of top.filter((e) => e.isDirectory())) {
      const names = await readdir(join(root, type, org.name), { withFileTypes: true });
      const dirs = names.filter((e) => e.isDirectory() && !e.name.startsWith('.'));
      // A folder of files only is a one-part repo id (models/gpt2/config.json).
      if (names.some((e) => e.isFile())) out.push(`${type}/${org.name}`);
      else for (const d of dirs) out.push(`${type}/${org.name}/${d.name}`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let folder: string | undefined;
  let port = 8089;
  let host = '127.0.0.1';
  let cutAfter: number | undefined;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => args[++i] ?? fail(`${a} needs a value`);
    if (a === '--port') port = Number(val());
    else if (a === '--host') host = val();
    else if (a === '--cut-after-bytes') cutAfter = Number(val());
    else if (a === '--quiet') quiet = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      return;
    } else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else if (folder === undefined) folder = a;
    else fail(`unexpected argument ${a}`);
  }
  if (!folder) fail('missing <folder>');
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer 0..65535`);
  if (cutAfter !== undefined && !(Number.isInteger(cutAfter) && cutAfter >= 0)) fail('--cut-after-bytes must be a non-negative integer');
  const root = resolve(folder);
  if (!(await stat(root).catch(() => null))?.isDirectory()) fail(`${root} is not a folder`);

  const handler = createMirrorHandler(root, {
    cut: cutAfter !== undefined ? { afterBytes: cutAfter } : null,
    log: quiet ? undefined : (line) => console.log(line),
  });
  const server = createServer(handler);
  server.on('error', (e) => {
    console.error(`cannot listen on ${host}:${port}: ${e.message}${(e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (choose another --port)' : ''}`);
    process.exit(1);
  });
  server.listen(port, host, async () => {
    const addr = server.address();
    const p = typeof addr === 'object' && addr ? addr.port : port;
    const repos = await listRepos(root);
    const list = repos.length ? `repos:\n  ${repos.join('\n  ')}` : `no repos found: add folders as ${join(root, 'models', '<org>', '<name>')}`;
    console.log(`${list}\nHub mirror of ${root} at http://${host}:${p}`);
  });
}

await main();
