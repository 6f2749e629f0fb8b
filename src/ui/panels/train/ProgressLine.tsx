// Step and epoch progress with ETA and tokens/s; tokenization progress before the first step.
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { useStudio } from '../../context.ts';
import { formatDuration, percent } from '../../format.ts';

export function ProgressLine() {
  const p = useStudio((s) => s.train.progress);
  const tok = useStudio((s) => s.train.tokenize);
  const ckpt = useStudio((s) => s.train.lastCheckpoint);
  return (
    <section className="card progress-card" aria-label="Training progress" aria-live="off">
      {tok && <ProgressBar label={`Tokenizing ${tok.split}`} value={percent(tok.done, tok.total)} detail={`${tok.done}${tok.total ? ` / ${tok.total}` : ''} pairs · ${tok.filtered} over max_length`} />}
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
              <dd>{ckpt === null ? '–' : `step ${ckpt}`}</dd>
            </div>
          </dl>
        </>
      ) : (
        !tok && <p className="muted">Progress shows here once training starts.</p>
      )}
    </section>
  );
}
