// Installs npm dependencies when node_modules is missing or older than package-lock.json, so `npm start` and
// `npm test` work on a fresh clone. Cross-platform (Windows, macOS, Linux): plain Node, no shell features.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The environment for npm ci: onnxruntime-node (a dependency of transformers.js the studio never runs) would download
 * its CUDA add-on on Linux in its install script; ONNXRUNTIME_NODE_INSTALL=skip keeps the install offline-safe.
 */
export function installEnv(env = process.env) {
  return { ...env, ONNXRUNTIME_NODE_INSTALL: env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' };
}

export function ensureDeps() {
  const lock = path.join(root, 'package-lock.json');
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const fresh = existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) return;
  console.log('[reward-studio] installing dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  const r = spawnSync(npm, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32', env: installEnv() });
  if (r.status !== 0) {
    console.error(`[reward-studio] '${npm} ${args.join(' ')}' failed (exit ${r.status}). Fix the error above and run it again.`);
    process.exit(r.status ?? 1);
  }
}
