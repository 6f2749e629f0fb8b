// Turns the compare form's prompt into a conversation: plain text is one user turn; text starting with '[' must be
// a JSON list of {role, content} messages (an earlier multi-turn conversation).
import type { Message } from '../../../worker/protocol.ts';

const ROLES = new Set(['system', 'user', 'assistant']);

export function parseConversation(text: string): { ok: true; messages: Message[] } | { ok: false; error: string } {
  const t = text.trim();
  if (!t) return { ok: false, error: 'The prompt is empty.' };
  if (!t.startsWith('[')) return { ok: true, messages: [{ role: 'user', content: text }] };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    return { ok: false, error: `The conversation is not valid JSON: ${(e as Error).message}.` };
  }
  if (!Array.isArray(v) || v.length === 0) return { ok: false, error: 'The conversation must be a non-empty JSON list of messages.' };
  const out: Message[] = [];
  for (let i = 0; i < v.length; i++) {
    const m = v[i] as { role?: unknown; content?: unknown };
    if (!m || typeof m !== 'object') return { ok: false, error: `Message [${i}] is not an object.` };
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) return { ok: false, error: `Message [${i}].role must be "system", "user" or "assistant".` };
    if (typeof m.content !== 'string') return { ok: false, error: `Message [${i}].content must be a string.` };
    out.push({ role: m.role as Message['role'], content: m.content });
  }
  if (out[out.length - 1].role === 'assistant') return { ok: false, error: 'The conversation must not end with an assistant turn: the two responses are the assistant turns being compared.' };
  return { ok: true, messages: out };
}
