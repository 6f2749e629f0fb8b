// The normalized preference and scoring records every reader (JSONL, parquet) produces after validation, and the
// issue type every validator reports. The shapes follow TRL's dataset formats (trl/data_utils.py, RewardTrainer):
//   conversational  chosen/rejected are message lists; the shared leading messages are the implicit prompt
//   explicit prompt prompt + chosen + rejected; TRL tokenizes prompt + chosen and prompt + rejected
//   standard        chosen/rejected (and prompt) are strings; TRL appends the EOS token if missing
//   tokenized       chosen_ids / rejected_ids, used as they are
// plus an optional per-pair `margin`. Columns the trainer does not read (score_chosen, score_rejected, ...) are kept in
// `extra` for inspection.

export type Role = 'system' | 'user' | 'assistant' | 'tool';
export const ROLES: readonly Role[] = ['system', 'user', 'assistant', 'tool'];

/** One chat message. Keys other than role/content (reasoning_content, tool_calls, ...) are kept and reach the chat
 *  template unchanged, as TRL passes the raw dicts to apply_chat_template. */
export interface Message {
  role: Role;
  content: string;
  [key: string]: unknown;
}

export type PairFormat = 'conversational' | 'standard' | 'tokenized';

interface PairCommon {
  /** Optional per-pair margin: loss = -logsigmoid(r_c - r_r - margin). */
  margin?: number;
  /** Columns the trainer does not use, kept for inspection (e.g. score_chosen, score_rejected). */
  extra: Record<string, unknown>;
}

/** Conversational pair. `prompt` is set only when the row had an explicit prompt column. */
export interface ConversationalPair extends PairCommon {
  format: 'conversational';
  prompt?: Message[];
  chosen: Message[];
  rejected: Message[];
}

/** Standard (plain text) pair. `prompt` is set only when the row had an explicit prompt column. */
export interface StandardPair extends PairCommon {
  format: 'standard';
  prompt?: string;
  chosen: string;
  rejected: string;
}

/** Pre-tokenized pair (TRL's processed columns). */
export interface TokenizedInputPair extends PairCommon {
  format: 'tokenized';
  chosen_ids: number[];
  rejected_ids: number[];
}

export type PreferencePair = ConversationalPair | StandardPair | TokenizedInputPair;

/** A single record to score with a trained reward model. */
export type ScoreRecord =
  | { format: 'conversational'; messages: Message[]; extra: Record<string, unknown> }
  | { format: 'standard'; text: string; extra: Record<string, unknown> }
  | { format: 'tokenized'; input_ids: number[]; extra: Record<string, unknown> };

/** Where a row came from: a JSONL line (1-based, physical line numbers) or a parquet row (0-based, as `dataset[i]`). */
export type RowPlace = { kind: 'line'; line: number } | { kind: 'row'; row: number };

/** A problem a user can fix in their data. `field` is a JSON path (`chosen[2].role`), absent for whole-line problems. */
export interface DataIssue {
  place: RowPlace;
  /** 1-based column (UTF-16 code units) for JSON syntax errors. */
  column?: number;
  field?: string;
  message: string;
}

/** `line 4, field chosen[2].role: unknown role "bot"; expected one of ...` — the form shown to users. */
export function formatIssue(issue: DataIssue): string {
  const where = issue.place.kind === 'line' ? `line ${issue.place.line}` : `row ${issue.place.row} (0-based)`;
  const col = issue.column !== undefined ? `, column ${issue.column}` : '';
  const field = issue.field !== undefined ? `, field ${issue.field}` : '';
  return `${where}${col}${field}: ${issue.message}`;
}

/** The shape every row of one dataset must share (TRL decides from the first example, and a column is either present
 *  for all rows or for none). */
export interface RowShape {
  format: PairFormat;
  explicitPrompt: boolean;
  margin: boolean;
}

/** What a reader found, before the caller decides to import. */
export interface ValidationSummary {
  /** Non-blank rows seen. */
  rows: number;
  valid: number;
  invalid: number;
  /** The first `maxErrors` issues, in file order (one per invalid row). */
  errors: DataIssue[];
  /** Whitespace-only lines skipped (JSONL only; they are not errors). */
  blankLines: number;
  /** Valid rows whose prompt + chosen + rejected repeat an earlier valid row. */
  duplicates: number;
  /** Valid rows whose chosen equals rejected (TRL trains on them; also listed in `warnings`). */
  identicalPairs: number;
  /** Rows TRL trains on that are probably mistakes, by kind, with the first few places (validate.ts RowWarning). */
  warnings: WarningSummary[];
  /** The shape fixed by the first valid row (null when there is none). */
  shape: RowShape | null;
  /** JSONL only: the file started with a UTF-8 byte order mark (stripped). */
  bom: boolean;
  /** JSONL only: some lines ended with CRLF (the CR is stripped). */
  crlf: boolean;
}

/** One kind of row warning in a file: how many rows, and the first few (place, field, detail). */
export interface WarningSummary {
  kind: string;
  /** What the rows have in common, e.g. "chosen is identical to rejected (…)". */
  text: string;
  count: number;
  first: DataIssue[];
}

/** How many places a warning keeps. */
export const WARNING_PLACES = 5;

/** `3 rows: chosen is identical to rejected (…) — lines 2, 7, 9` */
export function formatWarning(w: WarningSummary): string {
  const places = w.first.map((i) => (i.place.kind === 'line' ? `${i.place.line}` : `${i.place.row}`));
  const unit = w.first[0]?.place.kind === 'row' ? 'rows (0-based)' : 'lines';
  const more = w.count > w.first.length ? ', …' : '';
  return `${w.count} row${w.count === 1 ? '' : 's'}: ${w.text} — ${unit} ${places.join(', ')}${more}`;
}

/** Thrown when a caller asks for an all-or-nothing import of data that has invalid rows. */
export class DataImportError extends Error {
  constructor(
    message: string,
    readonly summary: ValidationSummary,
  ) {
    super(message);
    this.name = 'DataImportError';
  }
}

/** How the caller imports after reading the summary: never a silent partial import. */
export type ImportChoice = 'all-or-nothing' | 'valid-only';

/** The result of reading a preference file: the summary, then an explicit import. */
export interface PreferenceImport {
  summary: ValidationSummary;
  /** 'all-or-nothing' throws DataImportError if any row is invalid; 'valid-only' returns the valid rows. */
  importRecords(choice: ImportChoice): PreferencePair[];
  /** Where each valid record came from (parallel to importRecords' result). */
  recordPlaces: RowPlace[];
}
