// JSON text → value, keeping integer literals beyond Number.MAX_SAFE_INTEGER exact as
// bigints (starknet-devnet's clients send amounts such as 10^30 FRI as bare JSON numbers).
// Payloads without a long integer literal take JSON.parse's fast path unchanged.
// Never rounds an integer through a float; never accepts what JSON.parse would refuse.

/** A number token of 16+ digits right after `[`, `:` or `,` (a cheap, over-approximate test). */
const LONG_INTEGER = /[[:,]\s*-?\d{16,}/;

/** Parse JSON text; integers outside ±(2^53−1) become bigint, everything else as JSON.parse. */
export function parseJsonExact(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  return new ExactParser(text).parseDocument();
}

class ExactParser {
  private at = 0;
  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const v = this.value();
    this.ws();
    if (this.at !== this.text.length) this.fail("unexpected trailing text");
    return v;
  }

  private value(): unknown {
    this.ws();
    const c = this.text[this.at];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    if (this.text.startsWith("true", this.at)) return (this.at += 4), true;
    if (this.text.startsWith("false", this.at)) return (this.at += 5), false;
    if (this.text.startsWith("null", this.at)) return (this.at += 4), null;
    return this.fail("unexpected token");
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.at++;
    this.ws();
    if (this.text[this.at] === "}") return this.at++, out;
    for (;;) {
      this.ws();
      if (this.text[this.at] !== '"') this.fail("expected a property name");
      const k = this.string();
      this.ws();
      if (this.text[this.at++] !== ":") this.fail("expected ':'");
      // defineProperty: a "__proto__" key is an own property, as with JSON.parse.
      Object.defineProperty(out, k, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.text[this.at++];
      if (c === "}") return out;
      if (c !== ",") this.fail("expected ',' or '}'");
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.at++;
    this.ws();
    if (this.text[this.at] === "]") return this.at++, out;
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.text[this.at++];
      if (c === "]") return out;
      if (c !== ",") this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    // Find the closing quote, then let JSON.parse decode the escapes of that one literal.
    const start = this.at;
    let i = start + 1;
    for (;;) {
      const c = this.text.charCodeAt(i);
      if (Number.isNaN(c)) this.fail("unterminated string");
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    this.at = i + 1;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  private number(): number | bigint {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.at, this.at + 4096));
    if (m === null) return this.fail("invalid number");
    this.at += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  }

  private ws(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.at++;
    }
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.at}`);
  }
}
