// A .json array file: recognised from its start, converted to one record per line, with errors that name the place.
import { describe, expect, it } from 'vitest';
import { jsonArrayToJsonl, jsonlName, looksLikeJsonArray } from '../../src/data/json_array.ts';

describe('JSON array files', () => {
  it('are told apart from JSONL and converted one record per line', () => {
    expect(looksLikeJsonArray('\uFEFF  [ {"chosen": "a"')).toBe(true);
    expect(looksLikeJsonArray('{"chosen": "a", "rejected": "b"}\n')).toBe(false);
    const { jsonl, records } = jsonArrayToJsonl('[{"chosen": "a", "rejected": "b"},\n {"chosen": "c", "rejected": "d", "margin": 1}]', 'p.json');
    expect(records).toBe(2);
    expect(jsonl).toBe('{"chosen":"a","rejected":"b"}\n{"chosen":"c","rejected":"d","margin":1}\n');
    expect(jsonlName('my.prefs.JSON')).toBe('my.prefs.jsonl');
  });

  it('say what is wrong', () => {
    expect(() => jsonArrayToJsonl('[{"chosen": ', 'p.json')).toThrow(/^p\.json is not valid JSON/);
    expect(() => jsonArrayToJsonl('{"a": 1}', 'p.json')).toThrow('p.json holds no JSON array.');
    expect(() => jsonArrayToJsonl('[{"chosen": "a"}, 3]', 'p.json')).toThrow('p.json: element 1 of the array is not an object');
  });
});
