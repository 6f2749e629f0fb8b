// Eval accuracy on the test split, the eval_* metrics, and histograms of chosen vs rejected rewards. A loaded folder
// skips pairs longer than the configured max_length (a run uses its own).
import { HistogramChart, sharedHistograms } from '../../components/HistogramChart.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { evalTarget, runContext } from '../../run_context.ts';

export function EvalAccuracy() {
  const report = useStudio((s) => s.evaluation.report);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'evaluate'));
  const { request } = useActions();
  const api = useStudioApi();
  const evaluate = () => {
    const s = api.getState();
    const maxLength = typeof s.config.max_length === 'number' ? s.config.max_length : undefined;
    // a run scores its own test pairs (the worker uses the run's dataset); a loaded folder the selected data
    const dataset = s.evaluation.source === 'run' ? runContext(s).dataset : s.selection.dataset;
    request({ type: 'evaluate', dataset, split: 'test', ...evalTarget(s), ...(maxLength ? { maxLength } : {}) });
  };
  const hists = report ? sharedHistograms([report.chosenRewards, report.rejectedRewards], 24) : null;
  return (
    <Section
      title="Accuracy on the test split"
      id="eval"
      aside={
        <button type="button" className="primary" disabled={pending} onClick={evaluate} data-testid="eval-run">
          {pending ? 'Evaluating…' : 'Evaluate'}
        </button>
      }
    >
      {!report ? (
        <p className="muted">Scores every test pair with the current model: accuracy is the share of pairs where r_chosen &gt; r_rejected.</p>
      ) : (
        <>
          <p className="small" data-testid="eval-of">
            {report.model} · {report.data}
          </p>
          <dl className="stats" data-testid="eval-result" data-source={report.source}>
            {Object.entries(report.metrics).map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{formatMetric(v)}</dd>
              </div>
            ))}
          </dl>
          <HistogramChart
            title={`Rewards on ${report.chosenRewards.length} test pairs (${report.step === null ? 'loaded folder' : `step ${report.step}`})`}
            xLabel="reward"
            series={[
              { name: 'chosen', hist: hists![0], color: '#27ae60' },
              { name: 'rejected', hist: hists![1], color: '#c0392b' },
            ]}
            height={240}
          />
        </>
      )}
    </Section>
  );
}
