// Command-line flags of the benchmarks: `--name N` with N an integer (≥ 1 unless a flag allows 0), `--name V` with V from a list or any text, `--name "A B"` as words.

export function intArg(name: string, dflt: number, min = 1): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`--${name} expects an integer ≥ ${min}, got ${process.argv[i + 1]}`);
  return v;
}

/** `--name V` with V one of `allowed`. */
export function stringArg(name: string, dflt: string, allowed: readonly string[]): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined || !allowed.includes(v)) throw new RangeError(`--${name} expects one of ${allowed.join(", ")}, got ${v}`);
  return v;
}

/** `--name V` with V any text, or undefined when the flag is absent. */
export function textArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined) throw new RangeError(`--${name} expects a value`);
  return v;
}

/** `--name "A B C"`: the value split on whitespace ([] when the flag is absent). */
export function wordsArg(name: string): string[] {
  return (textArg(name) ?? "").split(/\s+/).filter(Boolean);
}
