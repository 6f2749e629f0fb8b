// A few example pairs of a split, rendered as conversations: the shared prompt, then chosen beside rejected.
import type { InspectSplit, Message } from '../../../worker/protocol.ts';

function Conversation({ messages, label }: { messages: Message[]; label: string }) {
  return (
    <div className="conversation" aria-label={label}>
      <h4>{label}</h4>
      {messages.map((m, i) => (
        <div key={i} className={`msg ${m.role}`}>
          <span className="role">{m.role}</span>
          <p>{m.content}</p>
        </div>
      ))}
    </div>
  );
}

/** Length of the leading messages chosen and rejected share (the implicit prompt). */
export function sharedPrefix(a: Message[], b: Message[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i].role === b[i].role && a[i].content === b[i].content) i++;
  return i;
}

export function Examples({ split }: { split: InspectSplit }) {
  if (split.examples.length === 0) return null;
  return (
    <details className="examples" open>
      <summary>Examples ({split.examples.length})</summary>
      {split.examples.map((ex, i) => {
        const p = sharedPrefix(ex.chosen, ex.rejected);
        return (
          <div key={i} className="example" data-testid="inspect-example">
            {p > 0 && <Conversation label="Prompt" messages={ex.chosen.slice(0, p)} />}
            <div className="pair">
              <Conversation label="Chosen" messages={ex.chosen.slice(p)} />
              <Conversation label="Rejected" messages={ex.rejected.slice(p)} />
            </div>
          </div>
        );
      })}
    </details>
  );
}
