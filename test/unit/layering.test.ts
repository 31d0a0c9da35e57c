// Enforces DESIGN §2: state imports nothing internal; contracts only state; sequencer
// state and contracts; scripts anything. Also: state/ and contracts/ never read the clock,
// randomness or the environment.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const allowed: Record<string, string[]> = {
  state: ["state"],
  contracts: ["state", "contracts"],
  sequencer: ["state", "contracts", "sequencer"],
  scripts: ["state", "contracts", "sequencer", "scripts"],
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Module specifiers: `import … from`, `export … from`, side-effect `import "x"`, `import("x")`, `require("x")`. */
function imports(text: string): string[] {
  const re = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)|(?:^|[;\n])\s*import\s*["']([^"']+)["']/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return out;
}

/** Reads of the clock, randomness or the environment. `new Date(x)` converts; `new Date()` reads the clock. */
const NONDETERMINISTIC = /\b(Date\.now|Math\.random|process\.env|performance\.now|crypto\.randomBytes|randomUUID|getRandomValues)\b|\bnew Date\(\s*\)|\bDate\(\s*\)/;

describe("layering (DESIGN §2)", () => {
  for (const [layer, may] of Object.entries(allowed)) {
    it(`${layer}/ imports only ${may.join(", ")}`, () => {
      const violations: string[] = [];
      for (const file of sourceFiles(join(root, layer))) {
        for (const spec of imports(readFileSync(file, "utf8"))) {
          if (!spec.startsWith(".")) continue;
          const target = relative(root, resolve(dirname(file), spec)).split("/")[0]!;
          if (!may.includes(target)) violations.push(`${relative(root, file)} imports ${spec}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }

  it("state/ and contracts/ read no clock, randomness or environment", () => {
    const banned = NONDETERMINISTIC;
    const violations: string[] = [];
    for (const layer of ["state", "contracts"]) {
      for (const file of sourceFiles(join(root, layer))) {
        // worker-pool plumbing may live in state/crypto but must not read these either
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (banned.test(line) && !line.trim().startsWith("//") && !line.trim().startsWith("*")) violations.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(violations).toEqual([]);
  });

  it("runtime code does not import starknet.js (tests may)", () => {
    const violations: string[] = [];
    for (const layer of ["state", "contracts", "sequencer"]) {
      for (const file of sourceFiles(join(root, layer))) {
        if (imports(readFileSync(file, "utf8")).some((s) => s === "starknet" || s.startsWith("starknet/"))) violations.push(relative(root, file));
      }
    }
    expect(violations).toEqual([]);
  });

  it("its own patterns see side-effect imports and a clock read by new Date() (the blind spots)", () => {
    const text = 'import "../sequencer/node.js";\nimport x from "./a.js";\nexport * from "./b.js";\nconst y = await import("./c.js");';
    expect(imports(text).sort()).toEqual(["../sequencer/node.js", "./a.js", "./b.js", "./c.js"]);
    expect(NONDETERMINISTIC.test("const t = new Date();")).toBe(true);
    expect(NONDETERMINISTIC.test("const t = new Date( );")).toBe(true);
    expect(NONDETERMINISTIC.test("const s = Date();")).toBe(true);
    expect(NONDETERMINISTIC.test("const t = new Date(ts * 1000).toISOString();")).toBe(false);
    expect(NONDETERMINISTIC.test("const t = Date.now();")).toBe(true);
  });

  it("state/ and contracts/ have no import cycles", () => {
    const graph = new Map<string, string[]>();
    for (const layer of ["state", "contracts"])
      for (const file of sourceFiles(join(root, layer))) {
        const code = readFileSync(file, "utf8")
          .split("\n")
          .filter((l) => !l.trim().startsWith("//"))
          .join("\n");
        graph.set(file, imports(code).filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s).replace(/\.js$/, ".ts")));
      }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...path.slice(path.indexOf(f)), f].map((x) => relative(root, x)).join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, "done");
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
