// Types of tools/debian.mjs (plain Node, so that npm scripts run without a TypeScript loader) for the tests.
export interface Stanza {
  package: string;
  version: string;
  filename: string;
  sha256: string;
  depends: string;
  preDepends: string;
  provides: string;
}
export type Index = Map<string, Stanza[]>;
export const MIRROR: string;
export const KEYRING: string;
export function have(cmd: string): boolean;
export function sha256(buf: Uint8Array): string;
export function download(url: string, timeoutMs: number): Promise<Buffer>;
export function fetchPackages(suite: string): Promise<{ text: string; signed: string }>;
export function downloadDeb(stanza: Stanza, timeoutMs?: number): Promise<Buffer>;
export function parseStanzas(text: string): Index;
export function parseDepends(depends: string): string[][];
export function dependsNames(depends: string): string[];
export function compareVersions(a: string, b: string): number;
export function majorVersion(v: string): number;
export function pickStanza(indexes: Index[], name: string): Stanza | null;
export function dependencyClosure(indexes: Index[], roots: string[], skip?: string[]): { stanzas: Stanza[]; missing: string[] };
