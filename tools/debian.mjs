// Debian package indexes, read without apt: what tools/lavapipe.mjs and tools/lavapipe_runtime.mjs need to fetch
// .debs over https with the same chain of trust as apt. InRelease (signed; checked with gpgv and Debian's archive
// keyring when both are present; bookworm's keyring also holds trixie's keys) → Packages.xz's SHA256 → each .deb's
// SHA256. The pure parts (stanzas, Depends, versions, closures) are unit-tested in tests/tools/debian.test.ts.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// REWARD_STUDIO_DEBIAN_MIRROR: another Debian mirror (the same layout), e.g. a local one.
export const MIRROR = process.env.REWARD_STUDIO_DEBIAN_MIRROR || 'https://deb.debian.org/debian';
export const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const PACKAGES = 'main/binary-amd64/Packages.xz';

export const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

export async function download(url, timeoutMs) {
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new Error(`${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/**
 * The text of `suite`'s amd64 main Packages index, checked: InRelease's signature (when gpgv and the keyring are
 * present), then Packages.xz against InRelease's SHA256. Returns { text, signed } (signed: a few words for the log).
 */
export async function fetchPackages(suite) {
  const inRelease = await download(`${MIRROR}/dists/${suite}/InRelease`, 30_000);
  let signed = 'signature not checked: no gpgv or keyring';
  if (have('gpgv') && existsSync(KEYRING)) {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'reward-studio-inrelease-'));
    try {
      writeFileSync(path.join(tmp, 'InRelease'), inRelease);
      const v = spawnSync('gpgv', ['--keyring', KEYRING, path.join(tmp, 'InRelease')], { encoding: 'utf8' });
      if (v.status !== 0) throw new Error(`${suite} InRelease: bad signature (gpgv: ${(v.stderr || '').trim().split('\n').pop()})`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    signed = 'InRelease signature good';
  }
  const m = new RegExp(`^ ([0-9a-f]{64})\\s+\\d+\\s+${PACKAGES.replace(/[.]/g, '\\.')}$`, 'm').exec(inRelease.toString('utf8'));
  if (!m) throw new Error(`${suite} InRelease lists no SHA256 for ${PACKAGES}`);
  // Backports suites publish only Packages.xz (no .gz; the plain file is listed but not served).
  if (!ensureXz()) throw new Error('the xz command is missing (apt-get install -y xz-utils)');
  const xz = await download(`${MIRROR}/dists/${suite}/${PACKAGES}`, 120_000);
  if (sha256(xz) !== m[1]) throw new Error(`${suite} ${PACKAGES}: SHA256 ${sha256(xz)} differs from InRelease's ${m[1]}`);
  const text = spawnSync('xz', ['-dc'], { input: xz, maxBuffer: 512 << 20, encoding: 'utf8' });
  if (text.status !== 0) throw new Error(`xz -dc ${suite} ${PACKAGES}: ${text.stderr}`);
  return { text: text.stdout, signed };
}

/** Whether the xz command is there; as root on Debian/Ubuntu, installs xz-utils when it is not (CI images). */
function ensureXz() {
  if (have('xz')) return true;
  if (!(typeof process.getuid === 'function' && process.getuid() === 0 && have('apt-get'))) return false;
  console.error('[debian] the xz command is missing: apt-get install -y xz-utils');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'xz-utils'], { stdio: 'inherit', env });
  return have('xz');
}

/** A .deb from the mirror, checked against its stanza's SHA256. */
export async function downloadDeb(stanza, timeoutMs = 300_000) {
  const deb = await download(`${MIRROR}/${stanza.filename}`, timeoutMs);
  if (sha256(deb) !== stanza.sha256) throw new Error(`${stanza.filename}: SHA256 ${sha256(deb)} differs from the index's ${stanza.sha256}`);
  return deb;
}

// ---- pure parts ----

/**
 * The stanzas of a Packages text, by package name (a name can have several stanzas: several versions).
 * Each stanza: { package, version, filename, sha256, depends, preDepends, provides } (missing fields: '').
 */
export function parseStanzas(text) {
  const byName = new Map();
  for (const block of text.split(/\n\s*\n/)) {
    const fields = {};
    let last = null;
    for (const line of block.split('\n')) {
      if (/^\s/.test(line) && last) fields[last] += '\n' + line.trim(); // continuation line
      else {
        const m = /^([\w-]+):\s?(.*)$/.exec(line);
        if (m) fields[(last = m[1].toLowerCase())] = m[2].trim();
      }
    }
    if (!fields.package) continue;
    const s = {
      package: fields.package, version: fields.version ?? '', filename: fields.filename ?? '', sha256: fields.sha256 ?? '',
      depends: fields.depends ?? '', preDepends: fields['pre-depends'] ?? '', provides: fields.provides ?? '',
    };
    byName.set(s.package, [...(byName.get(s.package) ?? []), s]);
  }
  return byName;
}

/**
 * A Depends field as a list of alternatives, each a list of package names without versions or architecture
 * qualifiers: 'a (>= 1), b | c:any' → [['a'], ['b', 'c']].
 */
export function parseDepends(depends) {
  return depends.split(',').map((d) => d.split('|').map((alt) => alt.trim().split(/[\s(:]/)[0]).filter(Boolean)).filter((alts) => alts.length);
}

/** Debian package names of a Depends field, first alternative of each, without versions (libllvm15, libdrm2, …). */
export function dependsNames(depends) {
  return parseDepends(depends).map((alts) => alts[0]);
}

// Debian's version order (deb-version(7)): epoch, then upstream and revision compared by alternating non-digit parts
// (letters before non-letters, '~' before everything, even the end) and numeric parts.
function order(c) {
  if (c === '~') return -1;
  if (c === undefined) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}
function comparePart(a, b) {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let first = 0;
    while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
      const ac = i < a.length && !/\d/.test(a[i]) ? a[i] : undefined;
      const bc = j < b.length && !/\d/.test(b[j]) ? b[j] : undefined;
      const d = order(ac) - order(bc);
      if (d) return Math.sign(d);
      if (ac !== undefined) i++;
      if (bc !== undefined) j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (/\d/.test(a[i] ?? '') && /\d/.test(b[j] ?? '')) {
      if (!first) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (/\d/.test(a[i] ?? '')) return 1;
    if (/\d/.test(b[j] ?? '')) return -1;
    if (first) return Math.sign(first);
  }
  return 0;
}
function splitVersion(v) {
  const c = v.indexOf(':');
  const epoch = c >= 0 ? Number(v.slice(0, c)) : 0;
  const rest = c >= 0 ? v.slice(c + 1) : v;
  const h = rest.lastIndexOf('-');
  return { epoch, upstream: h >= 0 ? rest.slice(0, h) : rest, revision: h >= 0 ? rest.slice(h + 1) : '' };
}
/** Debian version comparison: negative, 0 or positive, like `dpkg --compare-versions a lt/eq/gt b`. */
export function compareVersions(a, b) {
  const x = splitVersion(a);
  const y = splitVersion(b);
  return Math.sign(x.epoch - y.epoch) || comparePart(x.upstream, y.upstream) || comparePart(x.revision, y.revision);
}

/** The upstream major version: '1:26.1.6-1~bpo13+1' → 26. */
export function majorVersion(v) {
  return Number(/^(?:\d+:)?(\d+)/.exec(v)?.[1] ?? NaN);
}

/**
 * The stanza for `name`: from the first index (in order of preference, e.g. [trixie-backports, trixie]) that has it,
 * the newest version there. Null if none has it.
 */
export function pickStanza(indexes, name) {
  for (const index of indexes) {
    const all = index.get(name);
    if (all?.length) return all.reduce((best, s) => (compareVersions(s.version, best.version) > 0 ? s : best));
  }
  return null;
}

/**
 * Every package `roots` need to run, through Pre-Depends and Depends: for each dependency, its first alternative
 * that some index has as a real package, else a package that Provides it. `skip` names packages left out (with
 * their own dependencies). Returns { stanzas: [...] (roots first), missing: ['name (needed by x)', …] }.
 */
export function dependencyClosure(indexes, roots, skip = []) {
  const providers = new Map();
  for (const index of indexes) {
    for (const all of index.values()) {
      for (const s of all) for (const [p] of parseDepends(s.provides)) if (!providers.has(p)) providers.set(p, s.package);
    }
  }
  const seen = new Set(skip);
  const stanzas = [];
  const missing = [];
  const queue = roots.map((name) => ({ alts: [name], by: null }));
  while (queue.length) {
    const { alts, by } = queue.shift();
    const name = alts.find((a) => pickStanza(indexes, a)) ?? alts.map((a) => providers.get(a)).find(Boolean);
    if (!name) {
      if (!alts.some((a) => seen.has(a))) missing.push(`${alts.join(' | ')}${by ? ` (needed by ${by})` : ''}`);
      continue;
    }
    if (seen.has(name) || alts.some((a) => seen.has(a))) continue;
    seen.add(name);
    const s = pickStanza(indexes, name);
    stanzas.push(s);
    for (const d of [...parseDepends(s.preDepends), ...parseDepends(s.depends)]) queue.push({ alts: d, by: name });
  }
  return { stanzas, missing };
}
