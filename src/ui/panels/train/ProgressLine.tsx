// Step and epoch progress with ETA and tokens/s; tokenization progress before the first step, then which splits are
// tokenized and whether their ids came from the browser's cache (a second run on the same data skips tokenizing).
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { useStudio } from '../../context.ts';
import { formatDuration, percent } from '../../format.ts';
import { EvalFlips } from './EvalFlips.tsx';

export function ProgressLine() {
  const p = useStudio((s) => s.train.progress);
  const tok = useStudio((s) => s.train.tokenize);
  const ckpt = useStudio((s) => s.train.lastCheckpoint);
  const recovery = useStudio((s) => s.train.lastCheckpointRecovery);
  const tokenized = useStudio((s) => s.train.tokenized);
  return (
    <section className="card progress-card" aria-label="Training progress" aria-live="off">
      {tok && <ProgressBar label={`Tokenizing ${tok.split}`} value={percent(tok.done, tok.total)} detail={`${tok.done}${tok.total ? ` / ${tok.total}` : ''} pairs · ${tok.filtered} over max_length`} />}
      {tokenized.length > 0 && (
        <p className="small muted" data-testid="tokenized-status">
          {tokenized.map((t) => `${t.split}: ${t.pairs} pairs tokenized${t.cached ? ' (cached)' : ''}${t.filtered ? `, ${t.filtered} over max_length` : ''}`).join(' · ')}
        </p>
      )}
      {p ? (
        <>
          <ProgressBar label={`Step ${p.step} of ${p.maxSteps}`} value={percent(p.step, p.maxSteps)} />
          <dl className="stats" data-testid="train-progress">
            <div>
              <dt>epoch</dt>
              <dd>{p.epoch.toFixed(2)}</dd>
            </div>
            <div>
              <dt>ETA</dt>
              <dd>{formatDuration(p.etaSeconds)}</dd>
            </div>
            <div>
              <dt>tokens/s</dt>
              <dd>{Math.round(p.tokensPerSecond).toLocaleString('en-US')}</dd>
            </div>
            <div>
              <dt>checkpoint</dt>
              <dd data-testid="train-checkpoint" title={recovery ? 'A recovery checkpoint (kept in this browser every minute and when the page is hidden, so a reload resumes from it); save_steps checkpoints are separate.' : undefined}>
                {ckpt === null ? '–' : `step ${ckpt}${recovery ? ' (recovery)' : ''}`}
              </dd>
            </div>
          </dl>
          <EvalFlips />
        </>
      ) : (
        !tok && <p className="muted">Progress shows here once training starts.</p>
      )}
    </section>
  );
}
