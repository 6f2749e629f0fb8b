// Panel 5, Evaluate & compare: accuracy on the test split with chosen/rejected reward histograms, a compare-two-
// responses form, and batch scoring of a JSONL file. All use the model chosen at the top: this tab's run (in progress
// and paused, finished, or a stored run opened in Train) or a loaded adapter/model folder.
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { BatchScore } from './BatchScore.tsx';
import { BestOfN } from './BestOfN.tsx';
import { ComparePair } from './ComparePair.tsx';
import { EvalAccuracy } from './EvalAccuracy.tsx';
import { LengthBias } from './LengthBias.tsx';
import { PairTable } from './PairTable.tsx';
import { ModelSource } from './ModelSource.tsx';

export function EvaluatePanel() {
  return (
    <div className="stack">
      <ErrorNote area="evaluate" except={['score-batch']} />
      <div className="panel-grid">
        <div className="col">
          <ModelSource />
          <ComparePair />
          <BatchScore />
          <BestOfN />
        </div>
        <div className="col">
          <EvalAccuracy />
          <LengthBias />
          <PairTable />
        </div>
      </div>
    </div>
  );
}
