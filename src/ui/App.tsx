// The studio shell: header (title + GPU status), panel tabs, the open panel, and the page-wide JSONL drop zone.
// Without WebGPU, Train and Evaluate say what is needed (shell/NoWebGpu.tsx); the other panels work.
import type { ComponentType } from 'react';
import { useStudio } from './context.ts';
import { ConfigurePanel } from './panels/configure/ConfigurePanel.tsx';
import { EvaluatePanel } from './panels/evaluate/EvaluatePanel.tsx';
import { ExportPanel } from './panels/export/ExportPanel.tsx';
import { InspectPanel } from './panels/inspect/InspectPanel.tsx';
import { ModelDataPanel } from './panels/model_data/ModelDataPanel.tsx';
import { TrainPanel } from './panels/train/TrainPanel.tsx';
import { GlobalDropZone } from './shell/DropZone.tsx';
import { GpuStatus } from './shell/GpuStatus.tsx';
import { NoWebGpu, NoWebGpuStatus } from './shell/NoWebGpu.tsx';
import { Tabs } from './shell/Tabs.tsx';
import { ErrorNote } from './components/ErrorNote.tsx';
import type { PanelId } from './store/slices/ui.ts';

const PANEL_COMPONENTS: Record<PanelId, ComponentType> = {
  'model-data': ModelDataPanel,
  inspect: InspectPanel,
  configure: ConfigurePanel,
  train: TrainPanel,
  evaluate: EvaluatePanel,
  export: ExportPanel,
};

/** Panels that need the GPU, with what they do (for the no-WebGPU message). */
const GPU_PANELS: Partial<Record<PanelId, string>> = { train: 'Training', evaluate: 'Evaluation' };

export function App() {
  const gpuStatus = useStudio((s) => s.gpu.status);
  const tab = useStudio((s) => s.tab);
  // without WebGPU only the GPU panels are replaced by the message; the rest works
  const gpuPanel = gpuStatus === 'missing' ? GPU_PANELS[tab] : undefined;
  const Panel = PANEL_COMPONENTS[tab];
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>Reward Studio</span>
        </div>
        {gpuStatus === 'missing' ? <NoWebGpuStatus /> : <GpuStatus />}
      </header>
      <Tabs />
      <ErrorNote area="worker" />
      <main className="panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} data-testid={`panel-${tab}`}>
        {gpuPanel ? <NoWebGpu what={gpuPanel} /> : <Panel />}
      </main>
      <GlobalDropZone />
    </div>
  );
}
