// The length-bias probe: reward against response length (tokens) for chosen and rejected sequences of the last eval
// report, with Pearson's r for each and the share of pairs where the longer response won. A reward model that
// learned "longer is better" shows a strong positive r and a high longer-wins share.
import { CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { Section } from '../../components/Section.tsx';
import { useStudio } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { lengthBias } from '../../../train/insight.ts';

const fmtR = (r: number) => (Number.isFinite(r) ? r.toFixed(3) : 'n/a');

export function LengthBias() {
  const report = useStudio((s) => s.evaluation.report);
  if (!report) return null;
  const b = lengthBias(report);
  const points = (rewards: number[], lengths: number[]) => rewards.map((y, i) => ({ x: lengths[i], y }));
  return (
    <Section title="Length bias" id="length-bias">
      <dl className="stats" data-testid="length-bias">
        <div>
          <dt>r(reward, length) chosen</dt>
          <dd>{fmtR(b.chosen)}</dd>
        </div>
        <div>
          <dt>rejected</dt>
          <dd>{fmtR(b.rejected)}</dd>
        </div>
        <div>
          <dt>all</dt>
          <dd>{fmtR(b.all)}</dd>
        </div>
        <div>
          <dt>longer response wins</dt>
          <dd>{Number.isFinite(b.longerWins) ? `${(100 * b.longerWins).toFixed(1)}%` : 'n/a'}</dd>
        </div>
      </dl>
      <figure className="chart" aria-label="Reward against response length">
        <ResponsiveContainer width="100%" height={240}>
          <ScatterChart margin={{ top: 16, right: 16, bottom: 16, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="x" type="number" name="tokens" label={{ value: 'tokens', position: 'insideBottom', offset: -8 }} />
            <YAxis dataKey="y" type="number" name="reward" width={52} tickFormatter={(v: number) => formatMetric(v)} />
            <Tooltip formatter={(v) => formatMetric(Number(v))} />
            <Legend verticalAlign="top" height={22} />
            <Scatter name="chosen" data={points(report.chosenRewards, report.chosenLengths)} fill="#27ae60" isAnimationActive={false} />
            <Scatter name="rejected" data={points(report.rejectedRewards, report.rejectedLengths)} fill="#c0392b" isAnimationActive={false} />
          </ScatterChart>
        </ResponsiveContainer>
      </figure>
    </Section>
  );
}
