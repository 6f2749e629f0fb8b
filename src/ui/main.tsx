// Entry of the studio page: create the store, restore persisted settings, start the workers, ask for the GPU.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StudioContext } from './context.ts';
import { persistStudio } from './store/persist.ts';
import { createStudio } from './store/store.ts';
import { connectWorkers } from './workers.ts';
import { loadFollowedRunHistory, watchLifecycle } from './lifecycle.ts';
import './styles.css';

const studio = createStudio();
persistStudio(studio.store);
connectWorkers(studio);
watchLifecycle(studio.store);
loadFollowedRunHistory(studio.store);
studio.store.getState().request({ type: 'gpu-info' });
studio.store.getState().request({ type: 'storage-list' });
// the stored runs (the run the results follow after a reload, an interrupted run to resume)
studio.store.getState().request({ type: 'runs-list' });
// The dev server (and so the e2e tests) can read the state from the console: window.__studio.store.getState().
if (import.meta.env.DEV) (window as unknown as { __studio: typeof studio }).__studio = studio;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StudioContext value={studio}>
      <App />
    </StudioContext>
  </StrictMode>,
);
