// CLI: npm run --silent state-root -- FILE   (FILE is a path or "-" for stdin)
// Prints the Starknet state roots of the JSON state in FILE; exits 2 on malformed input.

import { readFileSync } from "node:fs";
import { computeStateRoots, parseStateInput, StateInputError } from "../state/state-root-input.js";

async function main(argv: string[]): Promise<number> {
  const file = argv[0];
  if (file === undefined || argv.length > 1) {
    process.stderr.write("usage: npm run --silent state-root -- FILE   (FILE is a path or - for stdin)\n");
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    process.stderr.write(`state-root: cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    process.stderr.write(`state-root: invalid JSON: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const out = await computeStateRoots(parseStateInput(json));
    process.stdout.write(JSON.stringify(out) + "\n");
    return 0;
  } catch (e) {
    if (e instanceof StateInputError) {
      process.stderr.write(`state-root: invalid input: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
