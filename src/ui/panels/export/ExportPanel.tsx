// Panel 6, Export: the PEFT adapter (+ README), the merged model, the ONNX model (verified), metrics and config — as files or one zip.
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { ExportArtifact } from './ExportArtifact.tsx';
import { ExportRun } from './ExportRun.tsx';
import { PushToHub } from './PushToHub.tsx';

export function ExportPanel() {
  return (
    <div className="stack">
      <ErrorNote area="export" />
      <div className="panel-grid">
        <div className="col">
          <ExportArtifact what="adapter" />
          <ExportArtifact what="model" />
          <ExportArtifact what="onnx" />
        </div>
        <div className="col">
          <ExportRun />
          <PushToHub />
        </div>
      </div>
    </div>
  );
}
