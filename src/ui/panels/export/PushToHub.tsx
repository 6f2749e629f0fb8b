// Push to Hub: the exported adapter (or merged model) committed to a repo the user names, with the token from Model &
// data's Hub settings (memory only, as for downloads) — through @huggingface/hub's commit API, to the Hub base URL
// set there (the real Hub, or `npm run mirror`).
import { useId, useState } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';

export function PushToHub() {
  const exports = useStudio((s) => s.exports);
  const pushed = useStudio((s) => s.pushed);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'push-to-hub'));
  const { request, showError } = useActions();
  const api = useStudioApi();
  const [repo, setRepo] = useState('');
  const [what, setWhat] = useState<'adapter' | 'model' | 'onnx'>('adapter');
  const repoId = useId();
  const push = () => {
    const s = api.getState();
    const files = s.exports[what];
    if (!files?.length) return showError('export', `No ${what} export yet.`, `Export the ${what === 'model' ? 'merged model' : what} above first, then push.`);
    if (!s.hub.token) return showError('export', 'No Hugging Face token.', 'Paste a token with write access in Model & data → Hub settings; it stays in this tab.');
    request({ type: 'push-to-hub', hubUrl: s.hub.hubUrl, token: s.hub.token, repo: repo.trim(), files });
  };
  return (
    <Section title="Push to the Hub" id="push">
      <p className="small muted">Commits the exported files to a model repo (created if it does not exist), with the token from Hub settings.</p>
      <div className="actions">
        <label htmlFor={repoId} className="small">
          repo
        </label>
        <input id={repoId} value={repo} placeholder="user/qwen3-reward-lora" onChange={(e) => setRepo(e.target.value)} data-testid="push-repo" />
        <select value={what} onChange={(e) => setWhat(e.target.value as 'adapter' | 'model' | 'onnx')} aria-label="What to push">
          <option value="adapter">adapter{exports.adapter ? '' : ' (not exported)'}</option>
          <option value="model">merged model{exports.model ? '' : ' (not exported)'}</option>
          <option value="onnx">ONNX model{exports.onnx ? '' : ' (not exported)'}</option>
        </select>
        <button type="button" disabled={pending || repo.trim() === ''} onClick={push} data-testid="push-run">
          {pending ? 'Pushing…' : 'Push'}
        </button>
      </div>
      {pushed && (
        <p className="ok small" data-testid="push-done">
          {pushed.created ? 'Created' : 'Updated'} {pushed.repo}:{' '}
          <a href={pushed.commitUrl} target="_blank" rel="noreferrer">
            {pushed.commitUrl}
          </a>
        </p>
      )}
    </Section>
  );
}
