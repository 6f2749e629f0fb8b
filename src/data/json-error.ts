// Where and why a line is not valid JSON. JSON.parse's messages differ between engines (V8 in Node 20 gives no position
// for most errors, Firefox gives line/column, Safari neither), so after JSON.parse fails we rescan the text with this
// small RFC 8259 checker to name the first offending character and what was expected there. Only failed lines pay
// for the rescan.

export interface JsonSyntaxError {
  /** 0-based index (UTF-16 code units) of the offending character; text.length for an unexpected end. */
  index: number;
  message: string;
}

class Fail {
  constructor(
    readonly index: number,
    readonly message: string,
  ) {}
}

/** Describe the character at i for a message: `'x'`, or "the end of the line". */
function got(text: string, i: number): string {
  if (i >= text.length) return 'the end of the line';
  const ch = text[i];
  const code = ch.charCodeAt(0);
  if (code < 0x20) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${ch}'`;
}

const WS = new Set([' ', '\t', '\n', '\r']);

class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && WS.has(this.s[this.i])) this.i++;
  }

  fail(message: string, at = this.i): never {
    throw new Fail(at, message);
  }

  value(): void {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const lit of ['true', 'false', 'null']) {
      if (this.s.startsWith(lit, this.i)) {
        this.i += lit.length;
        return;
      }
    }
    if (c === "'") this.fail("strings must use double quotes (\"), got '''");
    if (this.s.startsWith('NaN', this.i) || this.s.startsWith('Infinity', this.i)) {
      this.fail('NaN and Infinity are not valid JSON; use a number or null');
    }
    this.fail(`expected a value (object, array, string, number, true, false or null), got ${got(this.s, this.i)}`);
  }

  object(): void {
    this.i++; // '{'
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      const c = this.s[this.i];
      if (c !== '"') {
        if (c === '}') this.fail("expected '\"' to start a property name, got '}' (trailing comma before '}'?)");
        if (c === "'") this.fail("property names must use double quotes (\"), got '''");
        this.fail(`expected '"' to start a property name, got ${got(this.s, this.i)}`);
      }
      this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ':' after a property name, got ${got(this.s, this.i)}`);
      this.i++;
      this.value();
      this.ws();
      const d = this.s[this.i];
      if (d === '}') {
        this.i++;
        return;
      }
      if (d !== ',') this.fail(`expected ',' or '}' after a property value, got ${got(this.s, this.i)}`);
      this.i++;
    }
  }

  array(): void {
    this.i++; // '['
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] === ']') this.fail("expected a value, got ']' (trailing comma before ']'?)");
      this.value();
      this.ws();
      const d = this.s[this.i];
      if (d === ']') {
        this.i++;
        return;
      }
      if (d !== ',') this.fail(`expected ',' or ']' after an array element, got ${got(this.s, this.i)}`);
      this.i++;
    }
  }

  string(): void {
    const start = this.i;
    this.i++; // '"'
    for (;;) {
      if (this.i >= this.s.length) this.fail(`unterminated string (opened at column ${start + 1}); expected a closing '"'`);
      const c = this.s[this.i];
      const code = c.charCodeAt(0);
      if (c === '"') {
        this.i++;
        return;
      }
      if (code < 0x20) this.fail(`${got(this.s, this.i)} must be escaped inside a string (e.g. \\n, \\t)`);
      if (c === '\\') {
        const e = this.s[this.i + 1];
        if (e === 'u') {
          const hex = this.s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape; expected 4 hex digits');
          this.i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          this.fail(`invalid escape '\\${e ?? ''}' in a string; valid escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`);
        }
        this.i += 2;
        continue;
      }
      this.i++;
    }
  }

  number(): void {
    const digit = () => this.s[this.i] >= '0' && this.s[this.i] <= '9';
    if (this.s[this.i] === '-') this.i++;
    if (!digit()) this.fail(`expected a digit in a number, got ${got(this.s, this.i)}`);
    if (this.s[this.i] === '0') {
      this.i++;
      if (digit()) this.fail('numbers must not have leading zeros');
    } else {
      while (digit()) this.i++;
    }
    if (this.s[this.i] === '.') {
      this.i++;
      if (!digit()) this.fail(`expected a digit after '.', got ${got(this.s, this.i)}`);
      while (digit()) this.i++;
    }
    if (this.s[this.i] === 'e' || this.s[this.i] === 'E') {
      this.i++;
      if (this.s[this.i] === '+' || this.s[this.i] === '-') this.i++;
      if (!digit()) this.fail(`expected a digit in the exponent, got ${got(this.s, this.i)}`);
      while (digit()) this.i++;
    }
  }
}

/** First syntax error in `text` (call only after JSON.parse failed; returns null if the checker finds none). */
export function locateJsonError(text: string): JsonSyntaxError | null {
  const sc = new Scanner(text);
  try {
    sc.value();
    sc.ws();
    if (sc.i < text.length) {
      return { index: sc.i, message: `unexpected ${got(text, sc.i)} after the JSON value (one JSON object per line)` };
    }
    return null;
  } catch (e) {
    if (e instanceof Fail) return { index: e.index, message: e.message };
    if (e instanceof RangeError) return null; // nesting deeper than the call stack; the caller reports JSON.parse's text
    throw e;
  }
}
