// Panel 2, Inspect: the data worker's report on the selected dataset — rows per split, columns and types, example
// conversations, token-length histograms with the max_length cut, and score distributions.
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { Examples } from './Examples.tsx';
import { SplitCharts } from './SplitCharts.tsx';
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
        <p className="muted">Reads every row of the selected dataset, tokenizes it with the selected model's chat template, and shows what training will see (max_length from Configure).</p>
      </Section>
      {report && (
        <>
          <SplitSummary report={report} />
          {report.splits.map((sp) => (
            <Section key={sp.split} title={`Split “${sp.split}”`} id={`split-${sp.split}`}>
              <SplitCharts split={sp} maxLength={report.maxLength} />
              <Examples split={sp} />
            </Section>
          ))}
        </>
      )}
    </div>
  );
}
