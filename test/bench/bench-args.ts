// Command-line flags of the benchmarks: `--name N` with N a positive integer.

export function intArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`--${name} expects a positive integer, got ${process.argv[i + 1]}`);
  return v;
}
