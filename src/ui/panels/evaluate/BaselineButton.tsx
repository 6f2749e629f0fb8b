// Loads the model selected in Model & data with an untrained score head (seeded like a new run) as the "loaded"
// source: Compare, batch scoring and Evaluate then show what the base model says before any training — the baseline
// a trained run is compared against.
import { useActions, useStudio, useStudioApi } from '../../context.ts';

export function BaselineButton() {
  const loading = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'load-base' || p.type === 'load-model'));
  const { request } = useActions();
  const api = useStudioApi();
  const load = () => {
    const s = api.getState();
    request({ type: 'load-base', model: s.selection.model, seed: typeof s.config.seed === 'number' ? s.config.seed : 42 });
  };
  return (
    <button type="button" disabled={loading} onClick={load} data-testid="load-base">
      Base model (untrained head)
    </button>
  );
}
