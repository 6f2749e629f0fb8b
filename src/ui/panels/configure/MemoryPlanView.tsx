// The memory plan for this config on this GPU (asked from the train worker), and a clear refusal with what to
// change when it does not fit.
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatBytes } from '../../format.ts';

export function MemoryPlanView() {
  const plan = useStudio((s) => s.plan);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'plan'));
  const { request } = useActions();
  const api = useStudioApi();
  const ask = () => {
    const s = api.getState();
    request({ type: 'plan', config: s.config, model: s.selection.model });
  };
  return (
    <Section
      title="Memory plan"
      id="plan"
      aside={
        <button type="button" onClick={ask} disabled={pending} data-testid="plan-run">
          {pending ? 'Planning…' : 'Check memory'}
        </button>
      }
    >
      {!plan ? (
        <p className="muted">How much GPU memory this config needs for the selected model, and whether it fits this GPU.</p>
      ) : (
        <div data-testid="plan">
          <p className={plan.fits ? 'ok' : 'invalid'} role={plan.fits ? undefined : 'alert'}>
            {plan.fits ? 'Fits' : 'Does not fit'}: {formatBytes(plan.totalBytes)} needed, {formatBytes(plan.limitBytes)} available.
          </p>
          <table className="table compact">
            <tbody>
              {Object.entries(plan.parts).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td className="num">{formatBytes(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {plan.advice.length > 0 && (
            <ul>
              {plan.advice.map((a) => (
                <li key={a}>{a}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Section>
  );
}
