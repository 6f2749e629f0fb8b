// `npm test`: every test. Installs npm dependencies if missing, finds Chrome/Chromium (installs Debian's chromium
// when it can, else stops with the exact command), points Dawn at SwiftShader when no GPU driver is chosen, then
// runs the unit + GPU tests (Vitest, Node) and the browser end-to-end tests (Vitest + Playwright).
//   npm test                      all
//   npm test -- --unit-only       only Node tests;   npm test -- --e2e-only  only browser tests
//   npm test -- --lavapipe-only   only the lavapipe pass below (--f16-only: the same)
//   other arguments go to Vitest (e.g. a file filter; the lavapipe pass is then left out).
// The lavapipe pass: the shader-f16 and subgroup-matrix tests (tests/f16/, tests/sgmat/) run a second time on an
// adapter that offers those features. SwiftShader offers neither; on Linux x86-64, tools/lavapipe_runtime.mjs
// fetches Mesa ≥ 26's lavapipe (CPU Vulkan, Debian trixie-backports) with a private runtime into
// .cache/lavapipe-runtime/, and Node runs under that runtime's loader. Where it cannot, the pass falls back to
// Mesa 25 from bookworm-backports (tools/lavapipe.mjs: shader-f16, no subgroup matrices) for tests/f16 only; either
// way it says what did not run and why.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureDeps, root } from './ensure-deps.mjs';
import { ensureLavapipe } from './lavapipe.mjs';
import { ensureLavapipeRuntime, nodeCommand, shaderCacheDir, SUBGROUP_MATRIX } from './lavapipe_runtime.mjs';

ensureDeps();

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit-only');
const e2eOnly = args.includes('--e2e-only');
const f16Only = args.includes('--f16-only') || args.includes('--lavapipe-only');
const rest = args.filter((a) => !['--unit-only', '--e2e-only', '--f16-only', '--lavapipe-only'].includes(a));

function findChromium() {
  if (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
  const candidates = {
    linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'],
    darwin: ['/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium'],
    win32: [
      `${process.env['PROGRAMFILES'] ?? 'C:\\Program Files'}\\Google\\Chrome\\Application\\chrome.exe`,
      `${process.env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)'}\\Google\\Chrome\\Application\\chrome.exe`,
      `${process.env['LOCALAPPDATA'] ?? ''}\\Google\\Chrome\\Application\\chrome.exe`,
    ],
  }[process.platform] ?? [];
  return candidates.find((p) => existsSync(p));
}

function tryAptInstall() {
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) return false;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return false;
  console.log('[reward-studio] installing Debian chromium + libvulkan1 (apt-get)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status !== 0) return false;
  return spawnSync('apt-get', ['install', '-y', '-qq', 'chromium', 'libvulkan1'], { stdio: 'inherit', env }).status === 0;
}

let chromium = findChromium();
if (!chromium && tryAptInstall()) chromium = findChromium();
const needsSwiftShader = process.platform === 'linux' && !process.env.VK_ICD_FILENAMES;
if (process.platform === 'linux' && needsSwiftShader && !existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
  // Without a GPU, the GPU tests run on SwiftShader, which Debian's chromium ships.
  if (!tryAptInstall() && !existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
    console.error('[reward-studio] SwiftShader (from Debian\'s chromium) is needed for the GPU tests on a machine without a GPU.\n' +
      '  Run:  sudo apt-get update && sudo apt-get install -y chromium libvulkan1\n' +
      '  (or set VK_ICD_FILENAMES to your GPU\'s Vulkan ICD file) and run npm test again.');
    process.exit(1);
  }
}
if (!chromium) {
  console.error('[reward-studio] No Chrome or Chromium found for the browser tests.\n' +
    (process.platform === 'linux'
      ? '  Run:  sudo apt-get update && sudo apt-get install -y chromium libvulkan1\n'
      : '  Install Google Chrome (https://www.google.com/chrome/) or set CHROMIUM_PATH to chrome.exe.\n') +
    '  Then run npm test again.');
  process.exit(1);
}

const env = { ...process.env, CHROMIUM_PATH: chromium };
if (needsSwiftShader && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
  env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
}
if (process.platform === 'linux' && !existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') && existsSync('/usr/lib/chromium/libvulkan.so.1')) {
  // Dawn loads libvulkan.so.1; chromium ships one when the system has none.
  env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}
if (process.platform === 'linux') env.XDG_RUNTIME_DIR ??= '/tmp';

const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const reports = path.join(root, '.cache', 'test-reports');
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
// `node` runs Node with its arguments: [file, args] for spawnSync (the lavapipe runtime puts its loader in front).
function run(label, name, extra, runEnv = env, node = (a) => [process.execPath, a]) {
  console.log(`\n[reward-studio] ${label}`);
  const json = path.join(reports, `${name}.json`);
  const args = [vitest, 'run', ...extra, '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...rest];
  const [file, argv] = node(args);
  const r = spawnSync(file, argv, { cwd: root, stdio: 'inherit', env: runEnv });
  if (existsSync(json)) {
    const j = JSON.parse(readFileSync(json, 'utf8'));
    totals.passed += j.numPassedTests ?? 0;
    totals.failed += (j.numFailedTests ?? 0) + (j.numFailedTestSuites && !j.numFailedTests ? j.numFailedTestSuites : 0);
    totals.skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  } else if (r.status !== 0) totals.failed += 1;
  return r.status ?? 1;
}

let status = 0;
if (!e2eOnly && !f16Only) status = run('unit and GPU tests (Node, Dawn)', 'node', []) || status;
if (!e2eOnly) status = (await f16Pass()) || status;
if (!unitOnly && !f16Only && existsSync(path.join(root, 'vitest.e2e.config.ts'))) status = run('browser end-to-end tests (Chromium)', 'e2e', ['-c', 'vitest.e2e.config.ts']) || status;
// The shader-f16 and subgroup-matrix tests again on lavapipe (on the CPU). REWARD_STUDIO_EXPECT_F16/_SGMAT make
// them fail, not skip, should the adapter not offer the feature after all.
async function f16Pass() {
  const head = 'shader-f16 and subgroup-matrix tests (tests/f16, tests/sgmat) on lavapipe';
  if (rest.length) {
    console.log(`\n[reward-studio] ${head}: not run (a test filter was given; run them with npm test -- --lavapipe-only)`);
    return 0;
  }
  // tests/sgmat may not exist yet: Vitest fails on a filter that matches no file.
  const dirs = ['tests/f16', 'tests/sgmat'].filter((d) => existsSync(path.join(root, d)));
  const rt = await ensureLavapipeRuntime();
  if (rt.loader) {
    const sgmat = rt.features?.includes(SUBGROUP_MATRIX) ? '' : ` (its adapter did not list ${SUBGROUP_MATRIX} when set up: the subgroup-matrix tests will fail)`;
    if (!dirs.includes('tests/sgmat')) console.log('\n[reward-studio] tests/sgmat does not exist: only tests/f16 runs on lavapipe');
    const rtEnv = { ...env, ...rt.env, REWARD_STUDIO_EXPECT_F16: '1', REWARD_STUDIO_EXPECT_SGMAT: '1', MESA_SHADER_CACHE_DIR: shaderCacheDir(rt.version) };
    // Under the runtime's loader process.execPath is the loader itself, so Vitest's forks pool cannot re-spawn Node:
    // threads it is.
    return run(`${head}: Mesa ${rt.version}${sgmat} (${rt.icd}, Node under ${rt.loader})`, 'lavapipe', ['--project', 'gpu', ...dirs, '--pool=threads'], rtEnv,
      (a) => nodeCommand(rt, a));
  }
  console.log(`\n[reward-studio] subgroup-matrix tests NOT RUN here: ${rt.unavailable}.`);
  const f16Head = 'shader-f16 tests (tests/f16) on lavapipe';
  const lvp = await ensureLavapipe();
  if (!lvp.icd) {
    console.log(`\n[reward-studio] ${f16Head}: NOT RUN here: ${lvp.unavailable}.\n` +
      '  The shader-f16 and subgroup-matrix variants were tested only where the adapter of the first pass offers them (its tests say\n' +
      '  so above); SwiftShader does not, so on a machine without a GPU they were not tested at all.');
    return 0;
  }
  // Mesa's shader cache in the repo's .cache: lavapipe compiles the GEMM in 5–20 s per pipeline cold, ~0 s cached.
  const f16Env = { ...env, VK_ICD_FILENAMES: lvp.icd, REWARD_STUDIO_EXPECT_F16: '1', MESA_SHADER_CACHE_DIR: shaderCacheDir(lvp.version) };
  return run(`${f16Head} ${lvp.version} (${lvp.icd}; no subgroup matrices in Mesa 25)`, 'f16', ['--project', 'gpu', 'tests/f16'], f16Env);
}

// One plain closing line for CI: every test of both runs.
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(status);
