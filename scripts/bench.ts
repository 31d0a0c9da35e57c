// CLI: npm run bench -- NAME [args]   NAME: commit | crypto | exchange | rpc | rollback | longrun | devnet-restart | cluster | peer | profile | compare
// Each benchmark lives in test/bench/NAME.ts, prints progress to stderr and, as its last
// stdout line, one JSON object.

import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const names = ["commit", "crypto", "exchange", "rpc", "rollback", "longrun", "devnet-restart", "cluster", "peer", "profile", "compare"];
const [name, ...rest] = process.argv.slice(2);
if (name === undefined || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${names.join("|")}> [args]\n`);
  process.exit(2);
}
const file = fileURLToPath(new URL(`../test/bench/${name}.ts`, import.meta.url));
if (!existsSync(file)) {
  process.stderr.write(`bench ${name}: ${file} does not exist yet\n`);
  process.exit(2);
}
const tsx = fileURLToPath(new URL("../node_modules/tsx/dist/cli.mjs", import.meta.url));
const r = spawnSync(process.execPath, ["--expose-gc", tsx, file, ...rest], { stdio: "inherit" });
process.exit(r.status ?? 1);
