// A .json file that holds one JSON array: one message and a one-click conversion to JSONL.
import { useStudio, useStudioApi } from '../../context.ts';
import { convertJsonArray } from '../../import_files.ts';
import { jsonlName } from '../../../data/json_array.ts';

export function JsonArrayNote() {
  const files = useStudio((s) => s.jsonArrays);
  const api = useStudioApi();
  if (files.length === 0) return null;
  return (
    <ul className="plain">
      {files.map((f) => (
        <li key={f.name} className="import" data-testid="json-array-note">
          <strong className="mono">{f.name}</strong> is a JSON array: save one record per line as .jsonl, or let the studio convert it.{' '}
          <button type="button" className="primary" onClick={() => void convertJsonArray(api, f)} data-testid="json-array-convert">
            Convert to {jsonlName(f.name)} and import
          </button>
        </li>
      ))}
    </ul>
  );
}
