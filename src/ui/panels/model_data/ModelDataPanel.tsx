// Panel 1, Model & data: where the model and the preference data come from (Hub repos, a model folder on disk, an imported
// JSONL, or the built-in demo), the downloads in flight, and what this browser has stored.
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { DownloadList } from './DownloadList.tsx';
import { HubSettings } from './HubSettings.tsx';
import { ImportList } from './ImportList.tsx';
import { LocalModelFolder } from './LocalModelFolder.tsx';
import { RepoDownload } from './RepoDownload.tsx';
import { SelectionPicker } from './SelectionPicker.tsx';
import { StoredFiles } from './StoredFiles.tsx';

export function ModelDataPanel() {
  return (
    <div className="panel-grid">
      <div className="col">
        <ErrorNote area="model-data" />
        <SelectionPicker />
        <RepoDownload what="model" />
        <LocalModelFolder />
        <RepoDownload what="dataset" />
        <HubSettings />
      </div>
      <div className="col">
        <DownloadList />
        <ImportList />
        <StoredFiles />
      </div>
    </div>
  );
}
