// Runs side by side: pick stored runs, overlay one metric's curves (loss, accuracy, margin, train or eval; linear or
// log scale) and list the config fields that differ between them.
import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { configDiff, metricCurve } from '../../../train/compare_runs.ts';

const METRICS = ['loss', 'accuracy', 'margin', 'eval_loss', 'eval_accuracy', 'eval_margin'];
const COLORS = ['#2c6fbb', '#c0392b', '#27ae60', '#8e44ad', '#d35400', '#16a085'];

export function RunsCompare() {
  const runs = useStudio((s) => s.runs);
  const compared = useStudio((s) => s.runsCompare);
  const { request } = useActions();
  const [picked, setPicked] = useState<string[]>([]);
  const [metric, setMetric] = useState('loss');
  const [log, setLog] = useState(false);
  const curves = useMemo(() => (compared ?? []).map((r) => ({ id: r.id, points: metricCurve(r.history, metric).filter((p) => !log || p.value > 0) })), [compared, metric, log]);
  const diff = useMemo(() => (compared && compared.length > 1 ? configDiff(compared.map((r) => r.config)) : []), [compared]);
  if (runs.length < 2) return null;
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <Section title="Runs side by side" id="runs-compare">
      <div className="actions" role="group" aria-label="Runs to compare">
        {runs.map((r) => (
          <label key={r.id} className="small">
            <input type="checkbox" checked={picked.includes(r.id)} onChange={() => toggle(r.id)} data-testid="compare-pick" /> {r.id}
          </label>
        ))}
        <button type="button" disabled={picked.length < 2} onClick={() => request({ type: 'runs-history', runIds: picked })} data-testid="compare-runs">
          Compare
        </button>
      </div>
      {compared && compared.length > 0 && (
        <>
          <div className="actions">
            <label className="small">
              metric{' '}
              <select value={metric} onChange={(e) => setMetric(e.target.value)} data-testid="compare-metric">
                {METRICS.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
            <label className="small">
              <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} data-testid="compare-log" /> log scale
            </label>
          </div>
          <figure className="chart" aria-label={`${metric} of ${compared.length} runs`}>
            <ResponsiveContainer width="100%" height={260}>
              <LineChart margin={{ top: 16, right: 16, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="step" type="number" allowDuplicatedCategory={false} domain={['dataMin', 'dataMax']} />
                <YAxis dataKey="value" type="number" scale={log ? 'log' : 'auto'} domain={['auto', 'auto']} width={52} tickFormatter={(v: number) => formatMetric(v)} />
                <Tooltip formatter={(v) => formatMetric(Number(v))} />
                <Legend verticalAlign="top" height={22} />
                {curves.map((c, i) => (
                  <Line key={c.id} data={c.points} dataKey="value" name={c.id} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </figure>
          <table className="metrics-table" data-testid="compare-diff">
            <thead>
              <tr>
                <th>differs</th>
                {compared.map((r) => (
                  <th key={r.id}>{r.id}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {diff.length === 0 ? (
                <tr>
                  <td colSpan={compared.length + 1}>same config</td>
                </tr>
              ) : (
                diff.map((d) => (
                  <tr key={d.field}>
                    <td>{d.field}</td>
                    {d.values.map((v, i) => (
                      <td key={i}>{v}</td>
                    ))}
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}
