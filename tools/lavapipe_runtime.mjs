// A test adapter with subgroup matrices on a machine without a GPU: Mesa ≥ 26's lavapipe (CPU Vulkan) from Debian
// trixie-backports, which offers Dawn `chromium-experimental-subgroup-matrix` (f16→f16/f32 8×8×8, u8→u32, i8→i32,
// subgroup size 8) besides `shader-f16` and `subgroups`. It needs trixie's glibc (≥ 2.39), newer than bookworm's, so
// nothing is installed: the .debs of its runtime (mesa-vulkan-drivers, libvulkan1, libstdc++6, libc6 and what they
// depend on) are fetched, checked and unpacked into a private folder under .cache/lavapipe-runtime/<version>/lib/
// (git ignores .cache), trimmed to the shared libraries they load, and Node runs under trixie's dynamic loader:
//   <lib>/ld-linux-x86-64.so.2 --library-path <lib> node …   with VK_ICD_FILENAMES=<version>/lvp_icd.json
// Caveat: in such a Node, process.execPath is the loader, so child processes must be started through it too
// (Vitest: --pool=threads, not the default forks).
//   node tools/lavapipe_runtime.mjs                  prints the loader, library path, ICD and the command prefix
//   node tools/lavapipe_runtime.mjs exec <node args> runs Node with those arguments under the runtime
//   node tools/lavapipe_runtime.mjs vitest <filters> runs Vitest's gpu project on it (threads pool; f16 and
//                                                    subgroup-matrix tests expected to run, not skip)
//   import { ensureLavapipeRuntime }                 tools/test.mjs: { loader, libraryPath, icd, env, version,
//                                                    features } or { unavailable: reason } (never throws)
// Chain of trust as for tools/lavapipe.mjs (tools/debian.mjs): signed InRelease → Packages.xz → each .deb's SHA256.
// Offline, the newest complete copy in the cache is reused. Linux x86-64 only.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareVersions, dependencyClosure, downloadDeb, fetchPackages, have, majorVersion, parseStanzas, pickStanza } from './debian.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME_CACHE = path.join(root, '.cache', 'lavapipe-runtime');
const SUITES = ['trixie-backports', 'trixie']; // in order of preference
const MESA = 'mesa-vulkan-drivers';
export const MIN_MESA = 26; // lavapipe's subgroup matrices (VK_KHR_cooperative_matrix) arrived in Mesa 26
// The runtime's packages: lavapipe, the Vulkan loader Dawn opens, and what Node itself links (libstdc++, libc).
const ROOTS = [MESA, 'libvulkan1', 'libstdc++6', 'libc6'];
const LOADER = 'ld-linux-x86-64.so.2';
const SMOKE_TIMEOUT_MS = 180_000;
export const SUBGROUP_MATRIX = 'chromium-experimental-subgroup-matrix';

const dirName = (version) => version.replace(/[^\w.+-]/g, '_');
const du = (p) => {
  const st = lstatSync(p);
  return st.isDirectory() ? readdirSync(p).reduce((n, f) => n + du(path.join(p, f)), 0) : st.size;
};

/** `ld.so --list` output → { resolved: [path], notFound: [name] } (linux-vdso, which has no file, is left out). */
export function parseLoaderList(stdout) {
  const resolved = [];
  const notFound = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\S+)(?: => (.+?))?(?: \(0x[0-9a-f]+\))?\s*$/.exec(line);
    if (!m) continue;
    if (m[2] === 'not found') notFound.push(m[1]);
    else if (m[2]) resolved.push(m[2]);
    else if (m[1].startsWith('/')) resolved.push(m[1]);
  }
  return { resolved, notFound };
}

/** The paths `file` loads, as the runtime's loader resolves them with `libDir` first: { resolved, notFound }. */
function loaderList(libDir, file) {
  const r = spawnSync(path.join(libDir, LOADER), ['--library-path', libDir, '--list', file], { encoding: 'utf8' });
  const { resolved, notFound } = parseLoaderList(r.stdout || '');
  if (r.status !== 0 && !notFound.length) notFound.push(`(${path.basename(file)}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()})`);
  return { resolved, notFound };
}

const dawnNode = () => path.join(root, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node');
/** What must load from `libDir` only: lavapipe, the Vulkan loader, Node and Dawn. */
const loadRoots = (libDir) => [path.join(libDir, 'libvulkan_lvp.so'), path.join(libDir, 'libvulkan.so.1'), process.execPath, dawnNode()].filter((f) => existsSync(f));

/** Problems with `libDir` as a runtime: libraries not found, or found outside it. Empty when it is self-contained. */
function checkLibDir(libDir) {
  const problems = [];
  const inside = realpathSync(libDir) + path.sep;
  for (const file of loadRoots(libDir)) {
    const { resolved, notFound } = loaderList(libDir, file);
    for (const n of notFound) problems.push(`${path.basename(file)} needs ${n}: not found`);
    for (const p of resolved) {
      if (!existsSync(p) || !realpathSync(p).startsWith(inside)) problems.push(`${path.basename(file)} loads ${p} from outside the runtime`);
    }
  }
  return problems;
}

/** Moves every shared library a package put in (usr/)lib/x86_64-linux-gnu/ into `libDir`; returns their names. */
function collectLibs(unpacked, libDir) {
  const names = [];
  for (const sub of ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu']) {
    const from = path.join(unpacked, sub);
    if (!existsSync(from)) continue;
    for (const f of readdirSync(from)) {
      const p = path.join(from, f);
      const st = lstatSync(p);
      if (st.isDirectory() || existsSync(path.join(libDir, f))) continue; // gconv/, audit/, …: not loaded here
      if (st.isSymbolicLink() && readlinkSync(p).includes('/')) continue; // links out of the folder (none expected)
      renameSync(p, path.join(libDir, f));
      names.push(f);
    }
  }
  return names;
}

/** Asks Dawn, under the runtime, for the adapter's features: { features, description } or throws. */
function smokeTest(rt) {
  const script = "const w = await import('webgpu'); Object.assign(globalThis, w.globals);" +
    "const a = await w.create(['enable-dawn-features=allow_unsafe_apis']).requestAdapter();" +
    "console.log('SMOKE ' + JSON.stringify(a ? { features: [...a.features], description: [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' ') } : null));" +
    'process.exit(0);';
  const r = spawnSync(rt.loader, ['--library-path', rt.libraryPath, process.execPath, '--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', timeout: SMOKE_TIMEOUT_MS, env: { ...process.env, ...rt.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || '/tmp' },
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('SMOKE '));
  const got = line ? JSON.parse(line.slice(6)) : null;
  if (!got) throw new Error(`Dawn found no adapter under the runtime (exit ${r.status ?? r.signal}): ${((r.stderr || '') + (r.stdout || '')).trim().split('\n').slice(-3).join(' | ')}`);
  if (!got.features.includes('shader-f16')) throw new Error(`the adapter (${got.description}) offers no shader-f16`);
  return got;
}

function runtimeOf(dir, ok) {
  const libraryPath = path.join(dir, 'lib');
  const icd = path.join(dir, 'lvp_icd.json');
  // Written on each use: the ICD names the library by absolute path, and the repository may have moved.
  writeFileSync(icd, JSON.stringify({ ...ok.icd, ICD: { ...ok.icd.ICD, library_path: path.join(libraryPath, 'libvulkan_lvp.so') } }, null, 2) + '\n');
  // VK_DRIVER_FILES overrides VK_ICD_FILENAMES in newer loaders; implicit layers found on the host (e.g. bookworm's
  // VkLayer_MESA_device_select) would load the host's builds into this process.
  const env = { VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: icd, VK_LOADER_LAYERS_DISABLE: '~implicit~' };
  return { loader: path.join(libraryPath, LOADER), libraryPath, icd, env, version: ok.version, features: ok.features, adapter: ok.adapter };
}

/** The newest complete copy in the cache (offline fallback), or null. */
function newestCached() {
  if (!existsSync(RUNTIME_CACHE)) return null;
  const oks = readdirSync(RUNTIME_CACHE)
    .filter((d) => existsSync(path.join(RUNTIME_CACHE, d, 'ok.json')))
    .map((d) => ({ dir: path.join(RUNTIME_CACHE, d), ok: JSON.parse(readFileSync(path.join(RUNTIME_CACHE, d, 'ok.json'), 'utf8')) }))
    .sort((a, b) => compareVersions(a.ok.version, b.ok.version));
  return oks.at(-1) ?? null;
}

/** Downloads, unpacks, trims and checks the runtime for `mesa` (a stanza) into `dir`; writes ok.json last. */
async function install(indexes, mesa, dir, log) {
  const { stanzas, missing } = dependencyClosure(indexes, ROOTS);
  if (missing.length) throw new Error(`no package for ${missing.join(', ')} in ${SUITES.join(' or ')}`);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const libDir = path.join(partial, 'lib');
  mkdirSync(libDir, { recursive: true });
  try {
    const t0 = Date.now();
    let bytes = 0;
    let icd = null;
    const libc = [];
    log(`[lavapipe-runtime] downloading ${stanzas.length} packages (${stanzas.map((s) => s.package).join(' ')})…`);
    for (const s of stanzas) {
      const deb = await downloadDeb(s);
      bytes += deb.length;
      const debPath = path.join(partial, 'pkg.deb');
      const unpacked = path.join(partial, 'unpacked');
      writeFileSync(debPath, deb);
      const x = spawnSync('dpkg-deb', ['-x', debPath, unpacked], { encoding: 'utf8' });
      if (x.status !== 0) throw new Error(`dpkg-deb -x ${s.filename}: ${x.stderr}`);
      const names = collectLibs(unpacked, libDir);
      if (s.package === 'libc6') libc.push(...names);
      const icdFile = path.join(unpacked, 'usr', 'share', 'vulkan', 'icd.d', 'lvp_icd.json');
      if (s.package === MESA && existsSync(icdFile)) icd = JSON.parse(readFileSync(icdFile, 'utf8'));
      rmSync(unpacked, { recursive: true, force: true }); // docs, locales, headers-free data: not needed
      rmSync(debPath);
    }
    if (!icd) throw new Error(`${mesa.filename} has no usr/share/vulkan/icd.d/lvp_icd.json`);
    for (const f of [LOADER, 'libvulkan_lvp.so', 'libvulkan.so.1']) if (!existsSync(path.join(libDir, f))) throw new Error(`the packages have no ${f}`);
    // Keep what lavapipe, the Vulkan loader, Node and Dawn load, plus all of libc6 (loaded on demand: libnss_*, …);
    // the rest (the other Vulkan drivers and layers, LLVM's and ICU's tools, …) goes.
    const keep = new Set([LOADER, 'libvulkan_lvp.so', 'libvulkan.so.1', ...libc]);
    for (const file of loadRoots(libDir)) {
      for (const p of loaderList(libDir, file).resolved) {
        if (path.dirname(p) !== libDir) continue;
        keep.add(path.basename(p));
        if (existsSync(p)) keep.add(path.basename(realpathSync(p)));
      }
    }
    for (const f of readdirSync(libDir)) if (!keep.has(f)) rmSync(path.join(libDir, f), { force: true });
    const problems = checkLibDir(libDir);
    if (problems.length) throw new Error(`the unpacked runtime is not self-contained: ${problems.join('; ')}`);
    const ok = { version: mesa.version, icd, packages: stanzas.map((s) => `${s.package} ${s.version}`), downloadedBytes: bytes };
    const smoke = smokeTest(runtimeOf(partial, ok));
    Object.assign(ok, { features: smoke.features, adapter: smoke.description, sizeBytes: du(libDir), seconds: Math.round((Date.now() - t0) / 1000) });
    writeFileSync(path.join(partial, 'ok.json'), JSON.stringify(ok, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    log(`[lavapipe-runtime] Mesa ${mesa.version}: ${(bytes / 1e6).toFixed(0)} MB downloaded, ${(ok.sizeBytes / 1e6).toFixed(0)} MB unpacked in ${ok.seconds} s; ${smoke.description}`);
    return ok;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/**
 * Mesa ≥ 26 lavapipe with its private runtime, fetched when the cache lacks the current trixie-backports version.
 * Returns { loader, libraryPath, icd, env, version, features } or { unavailable: reason }; never throws.
 */
export async function ensureLavapipeRuntime({ log = console.log } = {}) {
  try {
    if (process.env.REWARD_STUDIO_NO_LAVAPIPE_RUNTIME) return { unavailable: 'turned off by REWARD_STUDIO_NO_LAVAPIPE_RUNTIME' };
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      return { unavailable: `not available on this platform (${process.platform}/${process.arch}: the runtime is Debian's amd64 packages, run under their Linux loader)` };
    }
    if (!have('dpkg-deb')) return { unavailable: 'the dpkg-deb command is missing (a Debian/Ubuntu system has it)' };
    mkdirSync(RUNTIME_CACHE, { recursive: true });
    for (const d of readdirSync(RUNTIME_CACHE)) {
      // Left by an interrupted run (its process is gone): never looks complete, removed here.
      const pid = /\.partial-(\d+)$/.exec(d)?.[1];
      if (pid && !alive(Number(pid))) rmSync(path.join(RUNTIME_CACHE, d), { recursive: true, force: true });
    }
    let backports;
    try {
      backports = await fetchPackages(SUITES[0]);
    } catch (e) {
      return fromCache(`could not check ${SUITES[0]} for lavapipe (${e.message})`, log);
    }
    const bpo = parseStanzas(backports.text);
    const mesa = pickStanza([bpo], MESA);
    if (!mesa || majorVersion(mesa.version) < MIN_MESA) {
      return fromCache(`${SUITES[0]} has ${mesa ? `${MESA} ${mesa.version}` : `no ${MESA}`}, and Mesa ≥ ${MIN_MESA} is needed for subgroup matrices`, log);
    }
    const dir = path.join(RUNTIME_CACHE, dirName(mesa.version));
    let ok;
    if (existsSync(path.join(dir, 'ok.json'))) {
      ok = JSON.parse(readFileSync(path.join(dir, 'ok.json'), 'utf8'));
    } else {
      log(`[lavapipe-runtime] ${SUITES[0]}: ${MESA} ${mesa.version} (${backports.signed}); fetching ${SUITES[1]}'s index for its libraries…`);
      let trixie;
      try {
        trixie = await fetchPackages(SUITES[1]);
      } catch (e) {
        return fromCache(`could not fetch ${SUITES[1]}'s index (${e.message})`, log);
      }
      try {
        ok = await install([bpo, parseStanzas(trixie.text)], mesa, dir, log);
      } catch (e) {
        return fromCache(`could not set up Mesa ${mesa.version}'s runtime (${e.message})`, log);
      }
      for (const d of readdirSync(RUNTIME_CACHE)) {
        if (d !== path.basename(dir) && !/\.partial-\d+$/.test(d)) rmSync(path.join(RUNTIME_CACHE, d), { recursive: true, force: true });
      }
    }
    const rt = runtimeOf(dir, ok);
    const problems = checkLibDir(rt.libraryPath);
    if (problems.length) return { unavailable: `Mesa ${ok.version}'s runtime in ${dir} is not self-contained (${problems.join('; ')}); delete that folder to fetch it again` };
    return rt;
  } catch (e) {
    return { unavailable: `unexpected error setting up lavapipe's runtime (${e?.stack ?? e})` };
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function fromCache(why, log) {
  const c = newestCached();
  if (!c) return { unavailable: why };
  log(`[lavapipe-runtime] ${why}; using the cached Mesa ${c.ok.version}`);
  const rt = runtimeOf(c.dir, c.ok);
  const problems = checkLibDir(rt.libraryPath);
  return problems.length ? { unavailable: `${why}; the cached copy is broken (${problems.join('; ')})` } : rt;
}

/** spawnSync arguments that run Node with `nodeArgs` under the runtime. */
export function nodeCommand(rt, nodeArgs) {
  return [rt.loader, ['--library-path', rt.libraryPath, process.execPath, ...nodeArgs]];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd && !['exec', 'vitest'].includes(cmd)) {
    console.error('usage: node tools/lavapipe_runtime.mjs [exec <node arguments> | vitest <vitest filters and options>]');
    process.exit(2);
  }
  const rt = await ensureLavapipeRuntime({ log: (s) => console.error(s) });
  if (!rt.loader) {
    console.error(`[lavapipe-runtime] not available: ${rt.unavailable}`);
    process.exit(1);
  }
  const sgmat = rt.features?.includes(SUBGROUP_MATRIX) ? SUBGROUP_MATRIX : `no ${SUBGROUP_MATRIX}`;
  if (!cmd) {
    console.log(`Mesa ${rt.version} lavapipe (${rt.adapter}; shader-f16, ${sgmat})`);
    console.log(`loader:       ${rt.loader}`);
    console.log(`library path: ${rt.libraryPath}`);
    console.log(`ICD:          ${rt.icd}`);
    console.log(`run Node:     ${Object.entries(rt.env).map(([k, v]) => `${k}=${v}`).join(' ')} ${rt.loader} --library-path ${rt.libraryPath} ${process.execPath} …`);
    process.exit(0);
  }
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const nodeArgs = cmd === 'exec' ? args : [vitest, 'run', '--project', 'gpu', '--pool=threads', ...args];
  const env = { ...process.env, ...rt.env, MESA_SHADER_CACHE_DIR: shaderCacheDir(rt.version), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || '/tmp' };
  if (cmd === 'vitest') Object.assign(env, { REWARD_STUDIO_EXPECT_F16: '1', REWARD_STUDIO_EXPECT_SGMAT: '1' });
  console.error(`[lavapipe-runtime] Mesa ${rt.version} (${sgmat}): node ${nodeArgs.join(' ')}`);
  const [file, argv] = nodeCommand(rt, nodeArgs);
  const r = spawnSync(file, argv, { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

/** Mesa's shader cache for `version`, in the repo's .cache (lavapipe compiles a GEMM in 5–20 s cold, ~0 s cached). */
export function shaderCacheDir(version) {
  return path.join(root, '.cache', 'lavapipe-shader-cache', dirName(version));
}
