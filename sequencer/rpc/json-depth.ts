// A linear pre-scan of a JSON text's nesting depth, run before JSON.parse: V8 parses deeply
// nested arrays/objects in time that grows faster than their size (a 2 MB body of a million
// "[" held the event loop for ~3 s), and no Starknet request nests more than a few levels.
// Must never allocate per byte or recurse; it only counts brackets outside strings (string
// bodies are skipped with indexOf, so long strings cost native speed).

/** Deepest nesting a request may have. The deepest legitimate request (a DECLARE's ABI, an
 *  INVOKE inside a batch inside params) stays far below this. */
export const MAX_JSON_DEPTH = 64;

/** True when `text` nests arrays/objects deeper than `max` (strings and escapes skipped). */
export function jsonNestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = closingQuote(text, i);
      if (i < 0) return false; // unterminated string: JSON.parse reports it
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** Index of the quote closing the string opened at `open` (-1 if none): skips escaped quotes. */
function closingQuote(text: string, open: number): number {
  let q = open;
  for (;;) {
    q = text.indexOf('"', q + 1);
    if (q < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
}
