// Panel 2, Inspect: the data worker's report on the selected dataset — rows per split, columns and types, example
// conversations, token-length histograms with the max_length cut, and score distributions.
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { SplitDetails } from './SplitDetails.tsx';
import { SplitSummary } from './SplitSummary.tsx';

export function InspectPanel() {
  const report = useStudio((s) => s.inspect.report);
  const running = useStudio((s) => s.inspect.running);
  const { request } = useActions();
  const api = useStudioApi();
  const run = () => {
    const s = api.getState();
    api.setState({ inspect: { ...s.inspect, running: true } });
    const maxLength = typeof s.config.max_length === 'number' ? s.config.max_length : 1024;
    request({ type: 'inspect', dataset: s.selection.dataset, model: s.selection.model, maxLength });
  };
  return (
    <div className="stack">
      <ErrorNote area="inspect" />
      <Section
        title="Inspect the data"
        id="inspect"
        aside={
          <button type="button" className="primary" onClick={run} disabled={running} data-testid="inspect-run">
            {running ? 'Inspecting…' : report ? 'Inspect again' : 'Inspect'}
          </button>
        }
      >
        <p className="muted">Reads every row of the selected dataset (Model &amp; data), tokenizes it with the selected model's chat template, and shows what training will see: invalid rows, token lengths against max_length (from Configure), score distributions and examples.</p>
      </Section>
      {report && (
        <>
          <SplitSummary report={report} />
          {report.splits.map((sp) => (
            <SplitDetails key={sp.split} split={sp} />
          ))}
        </>
      )}
    </div>
  );
}
