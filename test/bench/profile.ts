// `npm run bench -- profile FILE.cpuprofile [--top N] [--from US --to US]`: the top
// self-time functions of a V8 CPU profile (see cpu-profile.ts), optionally over a window of
// the monotonic clock in µs; reads the file, never writes. Last stdout line: one JSON object.

import { readFileSync } from "node:fs";
import { formatRows, topSelfTime, type CpuProfile } from "./cpu-profile.js";

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: npm run bench -- profile FILE.cpuprofile [--top N] [--from US --to US]\n");
  process.exit(2);
}
const num = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
};
const from = num("from");
const to = num("to");
const { rows, total_ms } = topSelfTime(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, num("top") ?? 25, from !== undefined && to !== undefined ? { from, to } : undefined);
process.stderr.write(`${total_ms.toFixed(0)} ms sampled\n${formatRows(rows)}\n`);
process.stdout.write(JSON.stringify({ bench: "profile", file, total_ms, top: rows }) + "\n");
