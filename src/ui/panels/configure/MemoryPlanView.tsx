// The memory plan for this config on this GPU (asked from the train worker) within the GPU memory budget the user
// sets (WebGPU cannot read the GPU's memory size; default 8 GiB, kept with the other settings) and the storage of the
// saved activations, and a clear refusal with what to change when it does not fit.
import { NumberField, SelectField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatBytes } from '../../format.ts';
import { budgetBytes } from '../../store/slices/run.ts';

export function MemoryPlanView() {
  const plan = useStudio((s) => s.plan);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'plan'));
  const budget = useStudio((s) => s.gpuBudgetGiB);
  const activationDtype = useStudio((s) => s.activationDtype);
  const { request, setGpuBudgetGiB, setActivationDtype } = useActions();
  const api = useStudioApi();
  const ask = () => {
    const s = api.getState();
    request({ type: 'plan', config: s.config, model: s.selection.model, budgetBytes: budgetBytes(s.gpuBudgetGiB), activationDtype: s.activationDtype });
  };
  const invalid = !(budget >= 0.01 && budget <= 1024) ? 'Between 0.01 and 1024 GiB.' : undefined;
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
      <NumberField
        label="GPU memory budget (GiB)"
        name="gpu_budget_gib"
        value={budget}
        invalid={invalid}
        onChange={(v) => v !== null && v >= 0.01 && setGpuBudgetGiB(v)}
        hint="How much of your GPU's memory a run may use: WebGPU cannot read it, so say it here (e.g. 8 for an 8 GB card, less when other apps need some)."
      />
      <SelectField
        label="Saved activations"
        name="activation_dtype"
        value={activationDtype}
        options={[
          { value: 'auto', label: 'auto (float32 when it fits, else float16)' },
          { value: 'float32', label: 'float32 (exact)' },
          { value: 'float16', label: 'float16 (half the memory)' },
        ]}
        onChange={(v) => setActivationDtype(v as typeof activationDtype)}
        hint="What the backward reads is kept between the passes in this precision; the math is f32 either way. float16 halves that memory (no recompute needed in more cases); gradients then move by about 1e-3 relative."
      />
      {!plan ? (
        <p className="muted">How much GPU memory this config needs for the selected model, and whether it fits this GPU.</p>
      ) : (
        <div data-testid="plan">
          <p className={plan.fits ? 'ok' : 'invalid'} role={plan.fits ? undefined : 'alert'}>
            {plan.fits ? 'Fits' : 'Does not fit'}: {plan.totalBytes > 0 ? `${formatBytes(plan.totalBytes)} needed, ` : ''}
            {formatBytes(plan.limitBytes)} available.
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
