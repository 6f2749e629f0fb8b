// Downloads of this session: the overall bar (bytes, rate, ETA) and each file's bar with its status. A failed or
// cancelled one can be resumed (the data worker continues partial files from the bytes already stored).
import { useShallow } from 'zustand/react/shallow';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatBytes, formatDuration, percent } from '../../format.ts';
import type { DownloadState } from '../../store/slices/hub.ts';

function DownloadItem({ d }: { d: DownloadState }) {
  const { request } = useActions();
  const api = useStudioApi();
  const o = d.overall;
  const retry = () => {
    const { hubUrl, token } = api.getState().hub;
    request({ type: 'download', what: d.what, hubUrl, repo: d.repo, revision: d.revision, token: token || undefined });
  };
  const detail =
    d.status === 'done'
      ? `done · ${o.filesTotal} files · ${formatBytes(o.total)}`
      : `${d.status} · ${o.filesDone}/${o.filesTotal} files · ${formatBytes(o.loaded)} of ${formatBytes(o.total)}${o.rate > 0 ? ` · ${formatBytes(o.rate)}/s · ${formatDuration(o.etaSeconds)} left` : ''}`;
  return (
    <li className="download" data-testid="download-item" data-status={d.status} data-what={d.what}>
      <ProgressBar label={d.repo.startsWith('_local/') ? `model folder ${d.repo.slice(7)}` : `${d.what} ${d.repo}@${d.revision}`} value={d.status === 'done' ? 100 : percent(o.loaded, o.total)} detail={detail} />
      <ul className="file-progress">
        {d.files.map((f) => (
          <li key={f.path} data-status={f.status} title={f.error}>
            <span className="mono">{f.path}</span>
            <progress aria-label={`${f.path} progress`} max={f.size || 1} value={f.bytes} />
            <span className={f.status === 'failed' ? 'invalid' : 'muted'}>
              {f.status === 'complete' || f.status === 'skipped' ? `${formatBytes(f.size)} ${f.status === 'skipped' ? '(stored)' : '✓'}` : `${formatBytes(f.bytes)} / ${formatBytes(f.size)} ${f.status}`}
            </span>
          </li>
        ))}
      </ul>
      <div className="actions">
        {d.status === 'running' && (
          <button type="button" onClick={() => request({ type: 'cancel', target: d.rid })}>
            Cancel
          </button>
        )}
        {(d.status === 'error' || d.status === 'cancelled') && (
          <button type="button" onClick={retry}>
            Resume download
          </button>
        )}
      </div>
    </li>
  );
}

export function DownloadList() {
  const downloads = useStudio(useShallow((s) => Object.values(s.downloads)));
  return (
    <Section title="Downloads" id="downloads">
      {downloads.length === 0 ? (
        <p className="muted">Nothing downloaded in this session. Downloads resume where they stopped.</p>
      ) : (
        <ul className="plain">
          {downloads.map((d) => (
            <DownloadItem key={d.rid} d={d} />
          ))}
        </ul>
      )}
    </Section>
  );
}
