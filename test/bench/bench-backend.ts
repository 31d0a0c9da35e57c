// Benchmarks use the backend the node would use: the native addon when it loads and
// passes its self-test, the JS reference otherwise. Returns the line to print.

import { selectHashBackend } from "../../state/crypto/select-backend.js";

export async function useFastestBackend(): Promise<string> {
  const sel = await selectHashBackend({ prefer: process.env.PERPCHAIN_HASH_BACKEND === "js" ? "js" : "auto" });
  return sel.logLine;
}
