// Compare two responses: a prompt (or conversation) and two responses → both rewards, which is preferred,
// P(A ≻ B) = σ(r_A − r_B) and the margin.
import { useId, useState } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { parseConversation } from './conversation.ts';

function TextArea({ label, value, onChange, rows = 3, hint }: { label: string; value: string; onChange: (v: string) => void; rows?: number; hint?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={rows} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function ComparePair() {
  const [prompt, setPrompt] = useState('What is 2+2?');
  const [a, setA] = useState('2 + 2 = 4.');
  const [b, setB] = useState('It is 5.');
  const [formError, setFormError] = useState<string | null>(null);
  const score = useStudio((s) => s.evaluation.pair);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'score-pair'));
  const { request } = useActions();
  const api = useStudioApi();
  const submit = () => {
    const conv = parseConversation(prompt);
    if (!conv.ok) return setFormError(conv.error);
    if (!a.trim() || !b.trim()) return setFormError('Both responses need some text.');
    setFormError(null);
    request({ type: 'score-pair', conversation: conv.messages, responseA: a, responseB: b, source: api.getState().evaluation.source });
  };
  return (
    <Section title="Compare two responses" id="compare">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <TextArea label="Prompt or conversation" value={prompt} onChange={setPrompt} hint='Plain text is one user turn; or a JSON list like [{"role":"user","content":"…"}].' />
        <div className="row">
          <TextArea label="Response A" value={a} onChange={setA} rows={4} />
          <TextArea label="Response B" value={b} onChange={setB} rows={4} />
        </div>
        {formError && (
          <p className="invalid" role="alert">
            {formError}
          </p>
        )}
        <button type="submit" className="primary" disabled={pending} data-testid="compare-run">
          {pending ? 'Scoring…' : 'Score both'}
        </button>
      </form>
      {score && (
        <dl className="stats result" data-testid="compare-result" data-source={score.source}>
          <div>
            <dt>reward A</dt>
            <dd data-testid="reward-a" data-value={score.rewardA}>{formatMetric(score.rewardA)}</dd>
          </div>
          <div>
            <dt>reward B</dt>
            <dd data-testid="reward-b" data-value={score.rewardB}>{formatMetric(score.rewardB)}</dd>
          </div>
          <div>
            <dt>P(A ≻ B)</dt>
            <dd data-testid="p-ab">{(100 * score.pAB).toFixed(1)}%</dd>
          </div>
          <div>
            <dt>margin r_A − r_B</dt>
            <dd>{formatMetric(score.margin)}</dd>
          </div>
          <div className="verdict">
            <dt>preferred</dt>
            <dd>{score.margin > 0 ? 'A' : score.margin < 0 ? 'B' : 'neither (equal rewards)'}</dd>
          </div>
        </dl>
      )}
    </Section>
  );
}
