// The studio shell: header (title + GPU status), panel tabs, the open panel, and the page-wide JSONL drop zone.
// When the worker reports no WebGPU the whole page is the how-to-get-it page.
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
import { NoWebGpu } from './shell/NoWebGpu.tsx';
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

export function App() {
  const gpuStatus = useStudio((s) => s.gpu.status);
  const gpuMessage = useStudio((s) => s.gpu.message);
  const tab = useStudio((s) => s.tab);
  if (gpuStatus === 'missing') return <NoWebGpu message={gpuMessage} />;
  const Panel = PANEL_COMPONENTS[tab];
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>Reward Studio</span>
        </div>
        <GpuStatus />
      </header>
      <Tabs />
      <ErrorNote area="worker" />
      <main className="panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} data-testid={`panel-${tab}`}>
        <Panel />
      </main>
      <GlobalDropZone />
    </div>
  );
}
