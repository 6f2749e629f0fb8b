// The panel tabs in the pipeline's order, as an ARIA tablist (arrow keys move between tabs).
import { useRef, type KeyboardEvent } from 'react';
import { useActions, useStudio } from '../context.ts';
import { PANELS } from '../store/slices/ui.ts';

export function Tabs() {
  const tab = useStudio((s) => s.tab);
  const { setTab } = useActions();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    const n = PANELS.length;
    const to = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i - 1 + n) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    setTab(PANELS[to].id);
    refs.current[to]?.focus();
  };
  return (
    <nav className="tabs" role="tablist" aria-label="Studio panels">
      {PANELS.map((p, i) => (
        <button
          key={p.id}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${p.id}`}
          aria-selected={tab === p.id}
          aria-controls={`panel-${p.id}`}
          tabIndex={tab === p.id ? 0 : -1}
          className={tab === p.id ? 'tab active' : 'tab'}
          onClick={() => setTab(p.id)}
          onKeyDown={(e) => onKey(e, i)}
        >
          <span className="tab-num">{i + 1}</span> {p.label}
        </button>
      ))}
    </nav>
  );
}
