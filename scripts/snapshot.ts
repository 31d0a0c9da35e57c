// CLI: npm run snapshot -- export FILE [--db DIR]   |   import FILE --db NEW_DIR
// A whole chain to one file and back into a fresh data directory (same head and roots).
// The node must not be running on DIR (LevelDB allows one process per directory).

import { dumpStore, loadStore } from "../sequencer/chain-dump.js";
import { LevelKvStore } from "../state/level-store.js";

async function main(argv: string[]): Promise<number> {
  const [cmd, file, ...rest] = argv;
  let db = ".perpchain";
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--db" && rest[i + 1]) db = rest[++i]!;
    else {
      process.stderr.write(`unknown option ${rest[i]}\n`);
      return 2;
    }
  }
  if ((cmd !== "export" && cmd !== "import") || !file) {
    process.stderr.write("usage: npm run snapshot -- export FILE [--db DIR] | import FILE --db NEW_DIR\n");
    return 2;
  }
  const store = await LevelKvStore.open(db);
  try {
    const t0 = performance.now();
    const s = cmd === "export" ? await dumpStore(store, file) : await loadStore(file, store);
    process.stdout.write(JSON.stringify({ command: cmd, file, db, ...s, ms: Math.round(performance.now() - t0) }) + "\n");
    return 0;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`snapshot: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
