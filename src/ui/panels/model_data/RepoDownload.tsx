// Repo + revision inputs and a Download button for the model or the dataset.
import { TextField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function RepoDownload({ what }: { what: 'model' | 'dataset' }) {
  const repo = useStudio((s) => (what === 'model' ? s.hub.modelRepo : s.hub.datasetRepo));
  const revision = useStudio((s) => (what === 'model' ? s.hub.modelRevision : s.hub.datasetRevision));
  const running = useStudio((s) => Object.values(s.downloads).some((d) => d.what === what && d.status === 'running'));
  const { setHub, request, showError } = useActions();
  const api = useStudioApi();
  const set = (patch: { repo?: string; revision?: string }) =>
    setHub(
      what === 'model'
        ? { ...(patch.repo !== undefined && { modelRepo: patch.repo }), ...(patch.revision !== undefined && { modelRevision: patch.revision }) }
        : { ...(patch.repo !== undefined && { datasetRepo: patch.repo }), ...(patch.revision !== undefined && { datasetRevision: patch.revision }) },
    );
  const download = () => {
    if (!REPO_RE.test(repo)) {
      showError('model-data', `"${repo}" is not a Hub repo id.`, 'Write it as owner/name, e.g. Qwen/Qwen3-0.6B.');
      return;
    }
    const { hubUrl, token } = api.getState().hub;
    request({ type: 'download', what, hubUrl, repo, revision: revision || 'main', token: token || undefined });
  };
  return (
    <Section title={what === 'model' ? 'Model' : 'Dataset'} id={`repo-${what}`}>
      <div className="row">
        <TextField label={what === 'model' ? 'Model repo' : 'Dataset repo'} name={`${what}Repo`} value={repo} onChange={(v) => set({ repo: v.trim() })} hint={what === 'model' ? 'A Qwen3 checkpoint (config.json + safetensors).' : 'Parquet or JSONL preference pairs (chosen / rejected).'} />
        <TextField label="Revision" name={`${what}Revision`} value={revision} onChange={(v) => set({ revision: v.trim() })} hint="Branch, tag or commit." />
      </div>
      <button type="button" className="primary" onClick={download} disabled={running} data-testid={`download-${what}`}>
        {running ? 'Downloading…' : `Download ${what}`}
      </button>
    </Section>
  );
}
