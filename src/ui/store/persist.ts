// What survives a reload: the open panel and the config in the URL hash (so a link reproduces a run's settings),
// the config, the chosen model and dataset, the run the results follow (Train, Evaluate, Export), the Hub settings, the GPU memory budget and the split for new imports in localStorage, and the Hub
// token in sessionStorage only when the user ticked "remember for this tab" (otherwise it lives in memory only).
// Hash: #tab=<panel>&config=<JSON of the fields that differ from the defaults>&hub=<Hub base URL>
import { ACTIVATION_DTYPE_CHOICES, type ActivationDtypeChoice } from '../../train/activation_dtype.ts';
import type { StoreApi } from 'zustand/vanilla';
import type { ConfigJson } from '../../worker/protocol.ts';
import { configDiff, defaultConfigJson, validateConfigJson } from '../config_fields.ts';
import { PANELS, type PanelId } from './slices/ui.ts';
import type { StudioState } from './store.ts';

const LS_CONFIG = 'reward-studio:config';
const LS_HUB = 'reward-studio:hub';
const LS_GPU_BUDGET = 'reward-studio:gpu-budget-gib';
const LS_ACTIVATION_DTYPE = 'reward-studio:activation-dtype';
const LS_IMPORT_SPLIT = 'reward-studio:import-split';
const LS_SELECTION = 'reward-studio:selection';
const LS_RUN = 'reward-studio:run';
const SS_TOKEN = 'reward-studio:hf-token';

/** A ModelRef / DatasetRef read back from storage, or null when it is not one. */
function validRef(v: unknown, kinds: string[]): boolean {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  if (r.kind === 'demo') return true;
  if (r.kind === 'hub') return kinds.includes('hub') && typeof r.repo === 'string' && typeof r.revision === 'string';
  if (r.kind === 'import') return kinds.includes('import') && typeof r.id === 'string';
  return false;
}

export interface HashState {
  tab?: PanelId;
  config?: ConfigJson;
  hub?: string;
  /** Set when the hash had a config that is not valid JSON: the message says where. */
  configError?: string;
}

export function decodeHash(hash: string): HashState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const out: HashState = {};
  const tab = params.get('tab');
  if (tab && PANELS.some((p) => p.id === tab)) out.tab = tab as PanelId;
  const cfg = params.get('config');
  if (cfg) {
    try {
      const parsed = JSON.parse(cfg) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      out.config = { ...defaultConfigJson(), ...(parsed as ConfigJson) };
    } catch (e) {
      out.configError = `The config in the page address (#config=…) is not valid: ${(e as Error).message}.`;
    }
  }
  const hub = params.get('hub');
  if (hub) out.hub = hub;
  return out;
}

export function encodeHash(tab: PanelId, config: ConfigJson, hub?: string): string {
  const params = new URLSearchParams();
  params.set('tab', tab);
  const diff = configDiff(config);
  if (Object.keys(diff).length) params.set('config', JSON.stringify(diff));
  if (hub) params.set('hub', hub);
  return '#' + params.toString();
}

function readJson(storage: Storage, key: string): unknown {
  try {
    const s = storage.getItem(key);
    return s ? JSON.parse(s) : null;
  } catch {
    return null;
  }
}

/** Restores persisted state into the store, then keeps hash and storage in step with it. Browser only. */
export function persistStudio(store: StoreApi<StudioState>): void {
  const s = store.getState();
  const fromHash = decodeHash(location.hash);
  const savedHub = readJson(localStorage, LS_HUB) as Partial<StudioState['hub']> | null;
  if (savedHub && typeof savedHub === 'object') {
    const { token: _t, rememberToken: _r, ...rest } = savedHub;
    s.setHub(rest);
  }
  const token = sessionStorage.getItem(SS_TOKEN);
  if (token) s.setHub({ token, rememberToken: true });
  if (fromHash.hub) s.setHub({ hubUrl: fromHash.hub });

  const savedBudget = readJson(localStorage, LS_GPU_BUDGET);
  if (typeof savedBudget === 'number' && Number.isFinite(savedBudget) && savedBudget > 0) s.setGpuBudgetGiB(savedBudget);
  const savedDtype = readJson(localStorage, LS_ACTIVATION_DTYPE);
  if ((ACTIVATION_DTYPE_CHOICES as readonly unknown[]).includes(savedDtype)) s.setActivationDtype(savedDtype as ActivationDtypeChoice);
  const savedSplit = readJson(localStorage, LS_IMPORT_SPLIT) as { test_size?: unknown; seed?: unknown } | null;
  if (savedSplit && typeof savedSplit.test_size === 'number' && typeof savedSplit.seed === 'number') s.setImportSplit({ test_size: savedSplit.test_size, seed: savedSplit.seed });

  // the model and data chosen for the next run (an import that is gone falls back to the demo set when the data
  // worker lists the stored imports), and the run whose results Evaluate and Export show
  const savedSel = readJson(localStorage, LS_SELECTION) as { model?: unknown; dataset?: unknown } | null;
  if (savedSel && validRef(savedSel.model, ['hub'])) s.setSelection({ model: savedSel.model as StudioState['selection']['model'] });
  if (savedSel && validRef(savedSel.dataset, ['hub', 'import'])) s.setSelection({ dataset: savedSel.dataset as StudioState['selection']['dataset'] });
  const savedRun = readJson(localStorage, LS_RUN);
  if (typeof savedRun === 'string') store.setState({ train: { ...store.getState().train, runId: savedRun } });

  const savedConfig = readJson(localStorage, LS_CONFIG);
  const config = fromHash.config ?? (savedConfig && typeof savedConfig === 'object' ? { ...defaultConfigJson(), ...(savedConfig as ConfigJson) } : null);
  if (config) {
    s.replaceConfig(config);
    const problems = validateConfigJson(config);
    if (problems.length) s.showError('configure', `The saved config has invalid fields: ${problems.join('; ')}.`, 'Fix the fields named here, or press "Reset to defaults".');
  }
  if (fromHash.configError) s.showError('configure', fromHash.configError, 'Remove #config=… from the address, or fix its JSON.');
  if (fromHash.tab) s.setTab(fromHash.tab);

  let hubInHash = !!fromHash.hub;
  store.subscribe((next, prev) => {
    if (next.config !== prev.config) localStorage.setItem(LS_CONFIG, JSON.stringify(configDiff(next.config)));
    if (next.gpuBudgetGiB !== prev.gpuBudgetGiB) localStorage.setItem(LS_GPU_BUDGET, JSON.stringify(next.gpuBudgetGiB));
    if (next.activationDtype !== prev.activationDtype) localStorage.setItem(LS_ACTIVATION_DTYPE, JSON.stringify(next.activationDtype));
    if (next.selection !== prev.selection) localStorage.setItem(LS_SELECTION, JSON.stringify(next.selection));
    if (next.train.runId !== prev.train.runId) localStorage.setItem(LS_RUN, JSON.stringify(next.train.runId));
    if (next.importSplit !== prev.importSplit) localStorage.setItem(LS_IMPORT_SPLIT, JSON.stringify(next.importSplit));
    if (next.hub !== prev.hub) {
      const { token: _t, rememberToken: _r, ...rest } = next.hub;
      localStorage.setItem(LS_HUB, JSON.stringify(rest));
      if (next.hub.rememberToken && next.hub.token) sessionStorage.setItem(SS_TOKEN, next.hub.token);
      else sessionStorage.removeItem(SS_TOKEN);
      if (next.hub.hubUrl !== prev.hub.hubUrl) hubInHash = false;
    }
    if (next.tab !== prev.tab || next.config !== prev.config || next.hub.hubUrl !== prev.hub.hubUrl) {
      const hash = encodeHash(next.tab, next.config, hubInHash ? next.hub.hubUrl : undefined);
      if (hash !== location.hash) history.replaceState(null, '', hash);
    }
  });
  window.addEventListener('hashchange', () => {
    const h = decodeHash(location.hash);
    const st = store.getState();
    if (h.tab && h.tab !== st.tab) st.setTab(h.tab);
    if (h.config && JSON.stringify(configDiff(h.config)) !== JSON.stringify(configDiff(st.config))) st.replaceConfig(h.config);
  });
}
