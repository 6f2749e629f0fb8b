// During training: how many eval pairs flipped (correct ↔ incorrect) between the last two evals of this run.
import { useStudio } from '../../context.ts';

export function EvalFlips() {
  const f = useStudio((s) => s.train.flips);
  if (!f) return null;
  return (
    <p className="small" data-testid="eval-flips">
      Since the eval at step {f.since}: {f.toCorrect + f.toIncorrect} of {f.pairs} eval pairs flipped ({f.toCorrect} became correct, {f.toIncorrect} became
      incorrect).
    </p>
  );
}
