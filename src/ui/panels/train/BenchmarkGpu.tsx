// "Benchmark this GPU": runs the step benchmark of `npm run bench` (src/bench/step_bench.ts) in the train worker on
// this browser's adapter — whole LoRA training steps at Qwen3-0.6B's dims with random weights (or tiny dims, quick)
// — and shows the same table: ms per step, tokens/s, TFLOP/s, dispatches per layer, submissions, allocations.
import { Section } from '../../components/Section.tsx';
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { useActions, useStudio } from '../../context.ts';
import { formatStepTable } from '../../../bench/table.ts';

export function BenchmarkGpu() {
  const bench = useStudio((s) => s.benchmark);
  const state = useStudio((s) => s.train.state);
  const { request } = useActions();
  const busy = bench.running || state === 'running' || state === 'loading' || state === 'paused' || state === 'stopping';
  const run = (size: 'tiny' | 'real') => request({ type: 'benchmark', size });
  return (
    <Section title="Benchmark this GPU" id="benchmark">
      <ErrorNote area="gpu" />
      <p className="muted">
        Times whole training steps (LoRA r=16 on all linears, Qwen3-0.6B dims, random weights; wall clock) on this
        browser&apos;s GPU, like <code>npm run bench</code>. The real sizes take a few minutes and about 6 GB of GPU memory.
        Where products run on the GPU&apos;s matrix units (the <em>matrix</em> column: subgroup matrices), each
        configuration runs a second time on the tiled f32 kernel (rows ending in <em>tiled</em>) to show what they bring.
      </p>
      <div className="row">
        <button type="button" disabled={busy} onClick={() => run('real')} data-testid="benchmark-real">Benchmark (Qwen3-0.6B dims)</button>
        <button type="button" disabled={busy} onClick={() => run('tiny')} data-testid="benchmark-tiny">Quick check (tiny dims)</button>
        {bench.running && <span className="muted">measuring… {bench.rows.length} done</span>}
      </div>
      {bench.rows.length > 0 && (
        <pre className="bench-table" data-testid="benchmark-table">
          {`adapter: ${bench.adapter ?? ''}\n${formatStepTable(bench.rows)}`}
        </pre>
      )}
    </Section>
  );
}
