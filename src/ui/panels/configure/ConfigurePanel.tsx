// Panel 3, Configure. Basic: one button that trains with sensible defaults. Advanced: every trainer field under
// TRL's name, LoRA on/off with its fields, presets, the memory plan for this GPU, and the config as JSON or as a
// ready-to-run TRL script.
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { useActions, useStudio } from '../../context.ts';
import { AdvancedConfig } from './AdvancedConfig.tsx';
import { BasicConfig } from './BasicConfig.tsx';
import { ConfigIO } from './ConfigIO.tsx';
import { MemoryPlanView } from './MemoryPlanView.tsx';

export function ConfigurePanel() {
  const mode = useStudio((s) => s.configMode);
  const { setConfigMode } = useActions();
  return (
    <div className="panel-grid wide-left">
      <div className="col">
        <ErrorNote area="configure" />
        <div className="segmented" role="radiogroup" aria-label="Configuration mode">
          {(['basic', 'advanced'] as const).map((m) => (
            <label key={m} className={mode === m ? 'active' : ''}>
              <input type="radio" name="config-mode" value={m} checked={mode === m} onChange={() => setConfigMode(m)} />
              {m === 'basic' ? 'Basic' : 'Advanced'}
            </label>
          ))}
        </div>
        {mode === 'basic' ? <BasicConfig /> : <AdvancedConfig />}
      </div>
      <div className="col">
        <MemoryPlanView />
        <ConfigIO />
      </div>
    </div>
  );
}
