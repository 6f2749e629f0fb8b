// The pure parts of the lavapipe fetchers (tools/debian.mjs, tools/lavapipe_runtime.mjs): Packages stanzas, Depends,
// Debian version order, the choice of a stanza across suites, the dependency closure, and `ld.so --list` output.
// Versions are checked against a table taken from `dpkg --compare-versions`, and against dpkg itself where present.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareVersions, dependencyClosure, dependsNames, majorVersion, parseDepends, parseStanzas, pickStanza } from '../../tools/debian.mjs';
import { parseLoaderList } from '../../tools/lavapipe_runtime.mjs';

// Two suites in the layout of Debian's Packages files (abridged; continuation lines, several versions of a package).
const BACKPORTS = `Package: mesa-vulkan-drivers
Source: mesa
Version: 26.1.6-1~bpo13+1
Provides: vulkan-icd
Depends: libvulkan1, libc6 (>= 2.39), libllvm19 (>= 1:19.1.0), libxcb1 (>= 1.9.2)
Description: Mesa Vulkan graphics drivers
 Vulkan is a low-overhead 3D graphics and compute API.
 .
 This package includes Vulkan drivers provided by the Mesa project.
Filename: pool/main/m/mesa/mesa-vulkan-drivers_26.1.6-1~bpo13+1_amd64.deb
SHA256: ${'a'.repeat(64)}

Package: libelf1t64
Version: 0.196-1~bpo13+2
Depends: libc6 (>= 2.38), zlib1g (>= 1:1.2.0)
Filename: pool/main/e/elfutils/libelf1t64_0.196-1~bpo13+2_amd64.deb
SHA256: ${'b'.repeat(64)}

Package: libelf1t64
Version: 0.196-1~bpo13+10
Depends: libc6 (>= 2.38), zlib1g (>= 1:1.2.0)
Filename: pool/main/e/elfutils/libelf1t64_0.196-1~bpo13+10_amd64.deb
SHA256: ${'c'.repeat(64)}
`;
const TRIXIE = `Package: mesa-vulkan-drivers
Version: 25.0.7-2+deb13u1
Depends: libvulkan1, libc6 (>= 2.39)
Filename: pool/main/m/mesa/mesa-vulkan-drivers_25.0.7-2+deb13u1_amd64.deb
SHA256: ${'d'.repeat(64)}

Package: libvulkan1
Version: 1.4.309.0-1
Depends: libc6 (>= 2.38)
Filename: pool/main/v/vulkan-loader/libvulkan1_1.4.309.0-1_amd64.deb

Package: libc6
Version: 2.41-12+deb13u5
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Filename: pool/main/g/glibc/libc6_2.41-12+deb13u5_amd64.deb

Package: libgcc-s1
Version: 14.2.0-19
Pre-Depends: gcc-14-base (= 14.2.0-19)
Depends: libc6 (>= 2.35)
Filename: pool/main/g/gcc-14/libgcc-s1_14.2.0-19_amd64.deb

Package: gcc-14-base
Version: 14.2.0-19
Filename: pool/main/g/gcc-14/gcc-14-base_14.2.0-19_amd64.deb

Package: libllvm19
Version: 1:19.1.7-3+b1
Depends: libc6 (>= 2.38), libedit2 (>= 2.11-20080614-0) | libeditline, libz3-4 (>= 4.13.3), libxml2 (>= 2.7.4)
Filename: pool/main/l/llvm-toolchain-19/libllvm19_19.1.7-3+b1_amd64.deb

Package: libbsd-edit
Version: 1.0-1
Provides: libeditline
Filename: pool/main/l/libbsd-edit/libbsd-edit_1.0-1_amd64.deb

Package: libxml2
Version: 2.12.7+dfsg+really2.9.14-2.1+deb13u3
Depends: libc6 (>= 2.38), zlib1g:any
Filename: pool/main/libx/libxml2/libxml2_2.12.7+dfsg+really2.9.14-2.1+deb13u3_amd64.deb

Package: zlib1g
Version: 1:1.3.dfsg+really1.3.1-1+b1
Depends: libc6 (>= 2.14)
Filename: pool/main/z/zlib/zlib1g_1.3.dfsg+really1.3.1-1+b1_amd64.deb

Package: libxcb1
Version: 1.17.0-2+b1
Depends: libxau6 (>= 1:1.0.9), libxdmcp-dev-only | libxdmcp6, libc6 (>= 2.14)
Filename: pool/main/libx/libxcb/libxcb1_1.17.0-2+b1_amd64.deb

Package: libxdmcp6
Version: 1:1.1.5-1
Depends: libc6 (>= 2.34)
Filename: pool/main/libx/libxdmcp/libxdmcp6_1.1.5-1_amd64.deb

Package: libxau6
Version: 1:1.0.11-1
Depends: libc6 (>= 2.14)
Filename: pool/main/libx/libxau/libxau6_1.0.11-1_amd64.deb
`;

describe('Debian package indexes', () => {
  const bpo = parseStanzas(BACKPORTS);
  const trixie = parseStanzas(TRIXIE);

  it('reads stanzas: fields, continuation lines, several versions of one package', () => {
    const [mesa] = bpo.get('mesa-vulkan-drivers')!;
    expect(mesa.version).toBe('26.1.6-1~bpo13+1');
    expect(mesa.filename).toBe('pool/main/m/mesa/mesa-vulkan-drivers_26.1.6-1~bpo13+1_amd64.deb');
    expect(mesa.sha256).toBe('a'.repeat(64)); // after a multi-line Description
    expect(mesa.provides).toBe('vulkan-icd');
    expect(bpo.get('libelf1t64')!.map((s) => s.version)).toEqual(['0.196-1~bpo13+2', '0.196-1~bpo13+10']);
    expect(trixie.get('libgcc-s1')![0].preDepends).toBe('gcc-14-base (= 14.2.0-19)');
    expect(trixie.get('libc6')![0].depends).toBe('libgcc-s1'); // Recommends is not a dependency
    expect(trixie.size).toBe(12);
  });

  it('parses Depends into alternatives without versions or architecture qualifiers', () => {
    expect(parseDepends('libc6 (>= 2.38), libedit2 (>= 2.11-20080614-0) | libeditline, zlib1g:any')).toEqual([['libc6'], ['libedit2', 'libeditline'], ['zlib1g']]);
    expect(parseDepends('')).toEqual([]);
    expect(dependsNames('a (>= 1), b | c, d:any (<< 2)')).toEqual(['a', 'b', 'd']);
  });

  // [a, b, sign of a − b] as `dpkg --compare-versions` orders them.
  const ORDER: [string, string, number][] = [
    ['1.0', '1.0~rc1', 1],
    ['1:0.1', '2.0', 1],
    ['26.1.6-1~bpo13+1', '26.1.6-1', -1],
    ['26.1.6-1~bpo13+1', '25.0.7-2+deb13u1', 1],
    ['2.41-12+deb13u5', '2.41-12', 1],
    ['1.0a', '1.0+', -1],
    ['1.0', '1.0.0', -1],
    ['1.2.10', '1.2.9', 1],
    ['1.0-1', '1.0-1', 0],
    ['0.196-1~bpo13+2', '0.196-1~bpo13+10', -1],
    ['1.0~~', '1.0~', -1],
    ['1:19.1.7-3+b1', '1:19.1.7-3', 1],
    ['1.001', '1.1', 0],
    ['2.0-0', '2.0', 0],
  ];

  it("orders versions as dpkg does (epochs, '~', letters before symbols, numbers as numbers)", () => {
    for (const [a, b, sign] of ORDER) {
      expect([a, b, Math.sign(compareVersions(a, b))]).toEqual([a, b, sign]);
      expect([b, a, Math.sign(compareVersions(b, a))]).toEqual([b, a, -sign || 0]);
    }
    const dpkg = spawnSync('dpkg', ['--version']).status === 0;
    if (dpkg) {
      for (const [a, b] of ORDER) {
        const op = compareVersions(a, b) < 0 ? 'lt' : compareVersions(a, b) > 0 ? 'gt' : 'eq';
        expect([a, op, b, spawnSync('dpkg', ['--compare-versions', a, op, b]).status]).toEqual([a, op, b, 0]);
      }
    }
    expect(majorVersion('26.1.6-1~bpo13+1')).toBe(26);
    expect(majorVersion('1:19.1.7-3+b1')).toBe(19);
  });

  it('picks a stanza from the first suite that has the package, its newest version there', () => {
    expect(pickStanza([bpo, trixie], 'mesa-vulkan-drivers')!.version).toBe('26.1.6-1~bpo13+1');
    expect(pickStanza([trixie, bpo], 'mesa-vulkan-drivers')!.version).toBe('25.0.7-2+deb13u1');
    expect(pickStanza([bpo, trixie], 'libelf1t64')!.version).toBe('0.196-1~bpo13+10');
    expect(pickStanza([bpo, trixie], 'libc6')!.version).toBe('2.41-12+deb13u5');
    expect(pickStanza([bpo, trixie], 'nothing-here')).toBeNull();
  });

  it('closes over Pre-Depends and Depends across suites: alternatives, Provides, cycles, missing packages', () => {
    const { stanzas, missing } = dependencyClosure([bpo, trixie], ['mesa-vulkan-drivers', 'libc6']);
    const names = stanzas.map((s) => s.package);
    expect(names[0]).toBe('mesa-vulkan-drivers');
    expect(stanzas[0].version).toBe('26.1.6-1~bpo13+1'); // from backports, preferred
    expect([...names].sort()).toEqual(['gcc-14-base', 'libbsd-edit', 'libc6', 'libgcc-s1', 'libllvm19', 'libvulkan1', 'libxau6', 'libxcb1', 'libxdmcp6', 'libxml2', 'mesa-vulkan-drivers', 'zlib1g']);
    expect(new Set(names).size).toBe(names.length); // libc6 ↔ libgcc-s1 is a cycle: each once
    // libxdmcp-dev-only is in neither suite: its alternative libxdmcp6 is. libedit2 is in neither either: its
    // alternative libeditline is a virtual package that libbsd-edit provides.
    expect(missing).toEqual(['libz3-4 (needed by libllvm19)']);
    // Left out on request, with its own dependencies (unless something else needs them).
    const skipped = dependencyClosure([bpo, trixie], ['mesa-vulkan-drivers'], ['libllvm19']).stanzas.map((s) => s.package);
    expect(skipped).not.toContain('libllvm19');
    expect(skipped).not.toContain('libxml2');
    expect(skipped).toContain('libxcb1');
  });

  it('reads `ld.so --list` output: resolved paths, not-found names, the loader itself; no vdso', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd5a5e2000)',
      '\tlibLLVM.so.19.1 => /c/lib/libLLVM.so.19.1 (0x00007f3c0b000000)',
      '\tlibz3.so.4 => not found',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3c0ae1c000)',
      '\t/lib64/ld-linux-x86-64.so.2 => /c/lib/ld-linux-x86-64.so.2 (0x00007f3c1a0a6000)',
      '\t/c/lib/ld-linux-x86-64.so.2 (0x00007f3c1a0a6000)',
      '',
    ].join('\n');
    expect(parseLoaderList(out)).toEqual({
      resolved: ['/c/lib/libLLVM.so.19.1', '/lib/x86_64-linux-gnu/libc.so.6', '/c/lib/ld-linux-x86-64.so.2', '/c/lib/ld-linux-x86-64.so.2'],
      notFound: ['libz3.so.4'],
    });
  });
});
