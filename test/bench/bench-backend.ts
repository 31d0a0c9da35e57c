// Benchmarks use the backend the node would use: the native addon when it loads and
// passes its self-test, the JS reference otherwise. Returns the line to print.

export async function useFastestBackend(): Promise<string> {
  try {
    const sel = (await import("../../state/crypto/select-backend.js")) as Record<string, unknown>;
    for (const fn of ["selectHashBackend", "selectBackend", "useNativeBackend", "initHashBackend"]) {
      const f = sel[fn];
      if (typeof f === "function") {
        const r = await (f as () => unknown)();
        return `hash backend: ${typeof r === "string" ? r : JSON.stringify(r)}`;
      }
    }
    return "hash backend: select-backend has no known entry point; using JS reference";
  } catch (e) {
    return `hash backend: JS reference (${(e as Error).message.split("\n")[0]})`;
  }
}
