// Loaders for data-pipeline modules that may not be in this build yet (written in parallel): import.meta.glob
// resolves at build time to {} for a missing file, so the worker builds either way and says what is missing.
// TODO: switch each to a static import once its module is committed.

const modules = import.meta.glob(['../data/storage-idb.ts', '../data/hub.ts', '../data/inspect.ts', '../data/tokenize.ts']);

export type DataModuleName = 'storage-idb' | 'hub' | 'inspect' | 'tokenize';

export async function loadDataModule(name: DataModuleName): Promise<Record<string, unknown> | null> {
  const load = modules[`../data/${name}.ts`];
  return load ? ((await load()) as Record<string, unknown>) : null;
}

export function missingModule(name: DataModuleName, what: string): { message: string; fix: string } {
  return {
    message: `${what} is not part of this build yet (src/data/${name}.ts is missing).`,
    fix: 'Update to a build that includes it; importing JSONL files works meanwhile.',
  };
}
