// A .json file holding one JSON array of records (what many tools write) is not JSONL: the studio says so in one
// message and converts it in one click (one record per line), instead of listing every line as an error.

/** True when the text (its start is enough) is a JSON array rather than JSON Lines. */
export function looksLikeJsonArray(head: string): boolean {
  return head.replace(/^\uFEFF/, '').trimStart().startsWith('[');
}

/**
 * The JSONL text of a JSON array of objects (one per line), or an error naming what is wrong (not valid JSON, not
 * an array, element N not an object).
 */
export function jsonArrayToJsonl(text: string, name: string): { jsonl: string; records: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(parsed)) throw new Error(`${name} holds no JSON array.`);
  const bad = parsed.findIndex((r) => !r || typeof r !== 'object' || Array.isArray(r));
  if (bad >= 0) throw new Error(`${name}: element ${bad} of the array is not an object ({"chosen": …, "rejected": …}).`);
  return { jsonl: parsed.map((r) => JSON.stringify(r)).join('\n') + (parsed.length ? '\n' : ''), records: parsed.length };
}

/** "prefs.json" → "prefs.jsonl". */
export function jsonlName(name: string): string {
  return name.replace(/\.json$/i, '') + '.jsonl';
}
