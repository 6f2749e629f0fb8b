// Types of tools/lavapipe_runtime.mjs (plain Node) for the tests.
export interface LavapipeRuntime {
  loader: string;
  libraryPath: string;
  icd: string;
  env: Record<string, string>;
  version: string;
  features?: string[];
  adapter?: string;
}
export const RUNTIME_CACHE: string;
export const MIN_MESA: number;
export const SUBGROUP_MATRIX: string;
export function parseLoaderList(stdout: string): { resolved: string[]; notFound: string[] };
export function ensureLavapipeRuntime(opts?: { log?: (s: string) => void }): Promise<LavapipeRuntime | { unavailable: string; loader?: undefined }>;
export function nodeCommand(rt: LavapipeRuntime, nodeArgs: string[]): [string, string[]];
export function shaderCacheDir(version: string): string;
