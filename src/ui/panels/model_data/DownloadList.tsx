// Downloads of this session: per-file progress and the overall bar. A failed one can be retried (the data worker
// resumes partial files from the bytes already stored).
import { useShallow } from 'zustand/react/shallow';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatBytes, percent } from '../../format.ts';
import type { DownloadState } from '../../store/slices/hub.ts';

function DownloadItem({ d }: { d: DownloadState }) {
  const { request } = useActions();
  const api = useStudioApi();
  const o = d.overall;
  const retry = () => {
    const { hubUrl, token } = api.getState().hub;
    request({ type: 'download', what: d.what, hubUrl, repo: d.repo, revision: d.revision, token: token || undefined });
  };
  return (
    <li className="download" data-testid="download-item" data-status={d.status}>
      <ProgressBar
        label={`${d.what} ${d.repo}@${d.revision}`}
        value={d.status === 'done' ? 100 : percent(o.loaded, o.total)}
        detail={`${d.status === 'done' ? 'done' : d.status} · ${o.filesDone}/${o.filesTotal} files · ${formatBytes(o.loaded)}${o.total ? ` of ${formatBytes(o.total)}` : ''}`}
      />
      <ul className="file-progress">
        {Object.entries(d.files).map(([name, f]) => (
          <li key={name}>
            <span className="mono">{name}</span>
            <progress aria-label={`${name} progress`} max={f.total ?? undefined} value={f.total ? f.loaded : undefined} />
            <span className="muted">
              {formatBytes(f.loaded)}
              {f.total ? ` / ${formatBytes(f.total)}` : ''}
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
