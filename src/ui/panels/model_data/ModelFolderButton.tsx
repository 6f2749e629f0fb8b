// Choose a model folder on disk: showDirectoryPicker where the browser offers it (Chrome, Edge), else a hidden
// <input webkitdirectory> (any browser; also what tests drive). The folder is checked and copied once into this
// browser's storage by the data worker (src/data/local_model.ts), then selected as the model, like a download.
import { useRef, type InputHTMLAttributes } from 'react';
import { useActions, useStudioApi } from '../../context.ts';
import { directoryPicker, folderFromFileList, folderFromHandle, importModelFolder } from '../../import_files.ts';

const DIRECTORY = { webkitdirectory: '' } as InputHTMLAttributes<HTMLInputElement>;

export function ModelFolderButton({ label, testId, className }: { label: string; testId: string; className?: string }) {
  const api = useStudioApi();
  const { showError } = useActions();
  const input = useRef<HTMLInputElement>(null);
  const choose = async () => {
    const pick = directoryPicker();
    if (!pick) return input.current?.click();
    try {
      importModelFolder(api, await folderFromHandle(await pick()));
    } catch (e) {
      if ((e as Error).name === 'AbortError') return; // the user closed the picker
      showError('model-data', `The folder could not be read: ${(e as Error).message}`, 'Choose the folder again, or drop it on the page.');
    }
  };
  return (
    <>
      <button type="button" className={className} onClick={() => void choose()} data-testid={testId}>
        {label}
      </button>
      <input
        ref={input}
        className="visually-hidden"
        type="file"
        multiple
        tabIndex={-1}
        aria-hidden
        {...DIRECTORY}
        onChange={(e) => {
          importModelFolder(api, folderFromFileList(e.target.files ?? []));
          e.target.value = '';
        }}
        data-testid={`${testId}-input`}
      />
    </>
  );
}
