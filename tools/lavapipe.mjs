// A second test adapter with shader-f16: Mesa's lavapipe (CPU Vulkan) from Debian bookworm-backports. SwiftShader,
// the default CPU adapter, has no shader-f16; lavapipe ≥ 25 gives Dawn `shader-f16` and `subgroups`, so the f16
// kernel variants (tests/f16/) run on a machine without a GPU too. Nothing is installed: the current
// mesa-vulkan-drivers .deb is fetched, checked and unpacked under .cache/lavapipe/ (git ignores .cache), and an ICD
// file naming its libvulkan_lvp.so by absolute path is written beside it; VK_ICD_FILENAMES=<that file> selects it.
//   node tools/lavapipe.mjs         prints the ICD file's path (exit 0), or why lavapipe is not available (exit 1)
//   import { ensureLavapipe }       tools/test.mjs (its fallback when Mesa 26's runtime cannot be had): { icd, version }
//                                   or { unavailable: reason }
// The chain of trust: InRelease (signed; checked with gpgv and Debian's archive keyring when both are present) →
// Packages.xz's SHA256 → the .deb's SHA256, all over https. Offline, a previously unpacked copy is reused.
// Linux x86-64 only (the package is amd64; elsewhere it reports "not available on this platform").
// Mesa ≥ 26 lavapipe, with subgroup matrices, needs trixie's glibc: tools/lavapipe_runtime.mjs. Shared index code:
// tools/debian.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dependsNames, downloadDeb, fetchPackages, have, parseStanzas, pickStanza } from './debian.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUITE = 'bookworm-backports';
export const LAVAPIPE_CACHE = path.join(root, '.cache', 'lavapipe');

/** The mesa-vulkan-drivers stanza of the suite's (verified) package index: { version, filename, sha256, depends }. */
async function lookUp(log) {
  const { text, signed } = await fetchPackages(SUITE);
  const found = pickStanza([parseStanzas(text)], 'mesa-vulkan-drivers');
  if (!found) throw new Error(`${SUITE} has no mesa-vulkan-drivers for amd64`);
  if (!found.version || !found.filename || !/^[0-9a-f]{64}$/.test(found.sha256)) throw new Error(`${SUITE}: incomplete mesa-vulkan-drivers entry`);
  log(`[lavapipe] ${SUITE}: mesa-vulkan-drivers ${found.version} (${signed})`);
  return found;
}

/** Shared libraries libvulkan_lvp.so needs that the system lacks (ldd's "not found" lines). */
function missingLibs(so) {
  const r = spawnSync('ldd', [so], { encoding: 'utf8' });
  return (r.stdout || '').split('\n').filter((l) => /not found/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
}

function writeIcd(dir) {
  const lib = path.join(dir, 'root', 'usr', 'lib', 'x86_64-linux-gnu', 'libvulkan_lvp.so');
  const src = path.join(dir, 'root', 'usr', 'share', 'vulkan', 'icd.d', 'lvp_icd.json');
  if (!existsSync(lib) || !existsSync(src)) throw new Error(`the unpacked package has no ${existsSync(lib) ? src : lib}`);
  const icd = JSON.parse(readFileSync(src, 'utf8'));
  icd.ICD.library_path = lib;
  const out = path.join(dir, 'lvp_icd.json');
  writeFileSync(out, JSON.stringify(icd, null, 2) + '\n');
  return { icd: out, lib };
}

/** The newest unpacked copy in the cache (offline fallback), or null. */
function cached() {
  if (!existsSync(LAVAPIPE_CACHE)) return null;
  const dirs = readdirSync(LAVAPIPE_CACHE).filter((d) => existsSync(path.join(LAVAPIPE_CACHE, d, 'ok.json'))).sort();
  if (!dirs.length) return null;
  const dir = path.join(LAVAPIPE_CACHE, dirs[dirs.length - 1]);
  return { dir, ...JSON.parse(readFileSync(path.join(dir, 'ok.json'), 'utf8')) };
}

/**
 * lavapipe's ICD file, fetching and unpacking the package when the cache lacks the current version.
 * Returns { icd, version } or { unavailable: reason } (never throws).
 */
export async function ensureLavapipe({ log = console.log } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { unavailable: `not available on this platform (${process.platform}/${process.arch}: lavapipe comes from Debian's amd64 packages)` };
  for (const cmd of ['dpkg-deb', 'ldd']) if (!have(cmd)) return { unavailable: `the ${cmd} command is missing (a Debian/Ubuntu system has it)` };
  mkdirSync(LAVAPIPE_CACHE, { recursive: true });
  let pkg;
  try {
    pkg = await lookUp(log);
  } catch (e) {
    const c = cached();
    if (c) {
      log(`[lavapipe] could not check for a newer package (${e.message}); using the unpacked ${c.version}`);
      return finish(c.dir, c.version, c.depends ?? '', log);
    }
    return { unavailable: `could not fetch mesa-vulkan-drivers from ${SUITE} (${e.message})` };
  }
  const dir = path.join(LAVAPIPE_CACHE, pkg.version.replace(/[^\w.+-]/g, '_'));
  if (!existsSync(path.join(dir, 'ok.json'))) {
    try {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      log(`[lavapipe] downloading ${pkg.filename}…`);
      const deb = await downloadDeb(pkg);
      const debPath = path.join(dir, 'mesa-vulkan-drivers.deb');
      writeFileSync(debPath, deb);
      const x = spawnSync('dpkg-deb', ['-x', debPath, path.join(dir, 'root.tmp')], { encoding: 'utf8' });
      if (x.status !== 0) throw new Error(`dpkg-deb -x: ${x.stderr}`);
      renameSync(path.join(dir, 'root.tmp'), path.join(dir, 'root'));
      rmSync(debPath);
      // Keep lavapipe only (the package also carries the radeon, intel, … drivers: ~50 MB).
      const libs = path.join(dir, 'root', 'usr', 'lib', 'x86_64-linux-gnu');
      for (const f of readdirSync(libs)) if (f !== 'libvulkan_lvp.so') rmSync(path.join(libs, f), { recursive: true, force: true });
      writeFileSync(path.join(dir, 'ok.json'), JSON.stringify({ version: pkg.version, sha256: pkg.sha256, depends: pkg.depends }) + '\n');
      // Older unpacked versions are no longer needed.
      for (const d of readdirSync(LAVAPIPE_CACHE)) if (path.join(LAVAPIPE_CACHE, d) !== dir) rmSync(path.join(LAVAPIPE_CACHE, d), { recursive: true, force: true });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      return { unavailable: `could not unpack mesa-vulkan-drivers ${pkg.version} (${e.message})` };
    }
  }
  return finish(dir, pkg.version, pkg.depends, log);
}

function finish(dir, version, depends, log) {
  let out;
  try {
    out = writeIcd(dir);
  } catch (e) {
    return { unavailable: e.message };
  }
  let missing = missingLibs(out.lib);
  if (missing.length) {
    const names = dependsNames(depends).filter((n) => n !== 'libvulkan1' && n !== 'libc6');
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (root && have('apt-get') && names.length) {
      // Its runtime libraries (libllvm15, libxcb…) at bookworm's versions: only what ldd reported missing matters.
      log(`[lavapipe] libvulkan_lvp.so needs ${missing.join(', ')}: apt-get install ${names.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { stdio: 'inherit', env });
      missing = missingLibs(out.lib);
    }
    if (missing.length) {
      return { unavailable: `libvulkan_lvp.so needs libraries this system lacks (${missing.join(', ')}); install them with: sudo apt-get install -y ${names.join(' ')}` };
    }
  }
  return { icd: out.icd, version };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await ensureLavapipe({ log: (s) => console.error(s) });
  if (r.icd) {
    console.log(r.icd);
  } else {
    console.error(`[lavapipe] ${r.unavailable}`);
    process.exit(1);
  }
}
