// Accumulates validated rows into a summary and (optionally) the valid records, for any reader. Adds the checks that
// span rows: one format for the whole dataset, prompt and margin on every row or none (TRL decides the format from the
// first example and its collator reads `margin` from the first example of a batch), and duplicate pairs. Duplicates
// are remembered by a 64-bit hash per row, so memory stays small when records are not kept.

import { hash64 } from './hash.ts';
import {
  type DataIssue,
  type ImportChoice,
  type PreferenceImport,
  type PreferencePair,
  type RowPlace,
  type RowShape,
  type ValidationSummary,
  DataImportError,
  formatIssue,
} from './records.ts';
import { ROW_WARNING_TEXT, fullSequences, validatePreferenceRow, type RowOptions } from './validate.ts';
import { WARNING_PLACES } from './records.ts';

export interface CollectOptions extends RowOptions {
  /** How many issues the summary keeps (all are counted). Default 20. */
  maxErrors?: number;
  /** Keep the valid records for import (false: summary only, e.g. a first validation pass). Default true. */
  keepRecords?: boolean;
}

function placeText(p: RowPlace): string {
  return p.kind === 'line' ? `line ${p.line}` : `row ${p.row}`;
}

function shapeOf(pair: PreferencePair): RowShape {
  return {
    format: pair.format,
    explicitPrompt: pair.format !== 'tokenized' && pair.prompt !== undefined,
    margin: pair.margin !== undefined,
  };
}

/** Key of the sequences TRL would tokenize (explicit and implicit prompts give the same key). */
export function pairKey(pair: PreferencePair): string {
  const { chosen, rejected } = fullSequences(pair);
  const canon = (s: unknown) =>
    Array.isArray(s) && typeof s[0] === 'object' ? (s as { role: string; content: string }[]).map((m) => [m.role, m.content]) : s;
  return hash64(JSON.stringify([pair.format, canon(chosen), canon(rejected)]));
}

export class PreferenceCollector {
  private readonly maxErrors: number;
  private readonly keepRecords: boolean;
  private readonly rowOptions: RowOptions;
  private readonly seen = new Set<string>();
  private readonly records: PreferencePair[] = [];
  private readonly places: RowPlace[] = [];
  private shapePlace: RowPlace | null = null;
  readonly summary: ValidationSummary = {
    rows: 0,
    valid: 0,
    invalid: 0,
    errors: [],
    blankLines: 0,
    duplicates: 0,
    identicalPairs: 0,
    warnings: [],
    shape: null,
    bom: false,
    crlf: false,
  };

  constructor(opts: CollectOptions = {}) {
    this.maxErrors = opts.maxErrors ?? 20;
    this.keepRecords = opts.keepRecords ?? true;
    this.rowOptions = opts.vocabSize !== undefined ? { vocabSize: opts.vocabSize } : {};
  }

  /** A row that could not even be parsed (bad JSON, oversize line, bad UTF-8): counted as a row and invalid. */
  addIssue(issue: DataIssue): void {
    this.summary.rows++;
    this.summary.invalid++;
    if (this.summary.errors.length < this.maxErrors) this.summary.errors.push(issue);
  }

  addBlank(): void {
    this.summary.blankLines++;
  }

  /** Validate one parsed row; returns the pair when it is valid. */
  addRow(place: RowPlace, row: unknown): PreferencePair | null {
    const r = validatePreferenceRow(row, this.rowOptions);
    if (!r.ok) {
      this.addIssue({ place, ...(r.issue.field !== undefined ? { field: r.issue.field } : {}), message: r.issue.message });
      return null;
    }
    const pair = r.value;
    const shape = shapeOf(pair);
    const first = this.summary.shape;
    if (first === null) {
      this.summary.shape = shape;
      this.shapePlace = place;
    } else {
      const at = placeText(this.shapePlace!);
      if (shape.format !== first.format) {
        const field = pair.format === 'tokenized' ? 'chosen_ids' : 'chosen';
        this.addIssue({ place, field, message: `this row is in the ${shape.format} format but the first valid row (${at}) is ${first.format}; all rows must use one format` });
        return null;
      }
      for (const [key, field, what] of [['explicitPrompt', 'prompt', 'a prompt'], ['margin', 'margin', 'a margin']] as const) {
        if (shape[key] !== first[key]) {
          const message = shape[key]
            ? `present while the first valid row (${at}) has none; give every row ${what} or none`
            : `missing while the first valid row (${at}) has ${what}; give every row ${what} or none`;
          this.addIssue({ place, field, message });
          return null;
        }
      }
    }
    this.summary.rows++;
    this.summary.valid++;
    for (const w of r.warnings) {
      let s = this.summary.warnings.find((x) => x.kind === w.kind);
      if (!s) this.summary.warnings.push((s = { kind: w.kind, text: ROW_WARNING_TEXT[w.kind], count: 0, first: [] }));
      s.count++;
      if (w.kind === 'identical') this.summary.identicalPairs++;
      if (s.first.length < WARNING_PLACES) s.first.push({ place, ...(w.field !== undefined ? { field: w.field } : {}), message: w.message });
    }
    const key = pairKey(pair);
    if (this.seen.has(key)) this.summary.duplicates++;
    else this.seen.add(key);
    if (this.keepRecords) {
      this.records.push(pair);
      this.places.push(place);
    }
    return pair;
  }

  /** The summary plus an explicit import decision. */
  result(): PreferenceImport {
    const summary = this.summary;
    const records = this.records;
    const keep = this.keepRecords;
    return {
      summary,
      recordPlaces: this.places,
      importRecords(choice: ImportChoice): PreferencePair[] {
        if (!keep) throw new Error('importRecords: this read was a validation pass (keepRecords: false); read again to import');
        if (choice === 'all-or-nothing' && summary.invalid > 0) {
          const first = summary.errors.length > 0 ? ` First: ${formatIssue(summary.errors[0])}.` : '';
          throw new DataImportError(
            `${summary.invalid} of ${summary.rows} rows are invalid; nothing was imported.${first} Fix the file, or import only the ${summary.valid} valid rows.`,
            summary,
          );
        }
        return records;
      },
    };
  }
}
