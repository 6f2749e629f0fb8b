// Plain-text rendering of inspection results: example rows as conversations and the whole report for the CLI
// (`npm run cli -- inspect --data <dir>` without --json). Pure string building.

import type { Histogram } from './histogram.ts';
import type { DatasetReport, SplitReport } from './inspect.ts';
import type { Message, PreferencePair, RowPlace } from './records.ts';
import { splitPrompt } from './validate.ts';

const MAX_TEXT = 400;

function clip(s: string): string {
  const one = s.replace(/\r?\n/g, '\n    ');
  return one.length > MAX_TEXT ? `${one.slice(0, MAX_TEXT)}… (${s.length} chars)` : one;
}

function renderPart(label: string, part: Message[] | string | number[]): string[] {
  if (typeof part === 'string') return part === '' ? [] : [`  [${label}] ${clip(part)}`];
  if (part.length > 0 && typeof part[0] === 'number') {
    const ids = part as number[];
    return [`  [${label}] ${ids.length} tokens: ${ids.slice(0, 16).join(' ')}${ids.length > 16 ? ' …' : ''}`];
  }
  return (part as Message[]).map((m) => `  [${label === 'prompt' ? m.role : `${label} · ${m.role}`}] ${clip(m.content)}`);
}

/** One pair as a readable conversation: the shared prompt once, then each completion. */
export function renderExample(pair: PreferencePair, place: RowPlace): string {
  const where = place.kind === 'line' ? `line ${place.line}` : `row ${place.row}`;
  const { prompt, chosen, rejected } = splitPrompt(pair);
  const lines = [`${where} (${pair.format}${pair.format !== 'tokenized' && pair.prompt !== undefined ? ', explicit prompt' : ''})`];
  lines.push(...renderPart(pair.format === 'tokenized' ? 'shared prefix' : 'prompt', prompt));
  lines.push(...renderPart(pair.format === 'tokenized' ? 'chosen_ids' : 'chosen', chosen));
  lines.push(...renderPart(pair.format === 'tokenized' ? 'rejected_ids' : 'rejected', rejected));
  const extras = Object.entries(pair.extra).filter(([, v]) => typeof v === 'number' || typeof v === 'string');
  if (pair.margin !== undefined) extras.unshift(['margin', pair.margin]);
  if (extras.length) lines.push(`  ${extras.map(([k, v]) => `${k}=${typeof v === 'string' ? clip(v) : v}`).join('  ')}`);
  return lines.join('\n');
}

function num(x: number | null, digits = 2): string {
  if (x === null) return '-';
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

/** A histogram as aligned text bars. */
export function renderHistogram(title: string, h: Histogram, width = 30): string[] {
  if (h.count === 0) return [`  ${title}: no values`];
  const out = [`  ${title}: n=${h.count} min=${num(h.min)} p50=${num(h.p50)} mean=${num(h.mean)} p95=${num(h.p95)} max=${num(h.max)}`];
  const peak = Math.max(...h.counts);
  const labels = h.counts.map((_, k) => `[${num(h.edges[k])}, ${num(h.edges[k + 1])}${!h.integer && k === h.counts.length - 1 ? ']' : ')'}`);
  const pad = Math.max(...labels.map((l) => l.length));
  h.counts.forEach((c, k) => {
    const bar = '#'.repeat(peak === 0 ? 0 : Math.round((c / peak) * width));
    out.push(`    ${labels[k].padEnd(pad)} ${String(c).padStart(6)} ${bar}`);
  });
  return out;
}

function renderSplit(s: SplitReport): string[] {
  const out = [`== split ${s.split}: ${s.rows} rows (${s.files.join(', ')})`];
  out.push(`  columns: ${s.columns.map((c) => `${c.name}: ${c.type}`).join('; ') || '-'}`);
  if (s.shape) out.push(`  format: ${s.shape.format}${s.shape.explicitPrompt ? ', explicit prompt' : ''}${s.shape.margin ? ', margin' : ''}`);
  out.push(`  valid ${s.valid}, invalid ${s.invalid}, duplicates ${s.duplicates}, identical pairs ${s.identicalPairs}${s.blankLines ? `, blank lines skipped ${s.blankLines}` : ''}`);
  for (const e of s.errors) out.push(`  error: ${e}`);
  for (const w of s.warnings ?? []) out.push(`  warning: ${w}`);
  if (s.invalid > s.errors.length) out.push(`  ... and ${s.invalid - s.errors.length} more invalid rows`);
  if (s.examples.length) {
    out.push('  examples:');
    for (const ex of s.examples) out.push(...ex.split('\n').map((l) => `  ${l}`));
  }
  if (s.tokens) {
    const t = s.tokens;
    out.push(`  token lengths (${t.measured} pairs measured, max_length ${t.maxLength}):`);
    out.push(...renderHistogram('prompt', t.prompt), ...renderHistogram('chosen', t.chosen), ...renderHistogram('rejected', t.rejected));
    out.push(`  over max_length: chosen ${t.overMaxLength.chosen}, rejected ${t.overMaxLength.rejected}, pairs filtered ${t.overMaxLength.pairs}`);
  }
  if (s.scores) {
    const sc = s.scores;
    out.push(`  scores (${sc.pairs} pairs; chosen not higher than rejected: ${sc.chosenNotHigher}):`);
    out.push(...renderHistogram('score_chosen', sc.score_chosen), ...renderHistogram('score_rejected', sc.score_rejected), ...renderHistogram('score_chosen - score_rejected', sc.difference));
  }
  return out;
}

/** The whole report as text. */
export function formatReport(r: DatasetReport): string {
  return [`dataset ${r.source} (max_length ${r.maxLength})`, ...r.splits.flatMap((s) => ['', ...renderSplit(s)])].join('\n') + '\n';
}
