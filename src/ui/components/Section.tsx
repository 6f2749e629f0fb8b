// A titled card inside a panel.
import type { ReactNode } from 'react';

export function Section({ title, children, aside, id }: { title: string; children: ReactNode; aside?: ReactNode; id?: string }) {
  return (
    <section className="card" aria-labelledby={id ? `${id}-title` : undefined}>
      <header className="card-head">
        <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
        {aside}
      </header>
      {children}
    </section>
  );
}
