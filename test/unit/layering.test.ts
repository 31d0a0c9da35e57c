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

function imports(text: string): string[] {
  const re = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|require\(\s*["']([^"']+)["']\s*\)/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

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
    const banned = /\b(Date\.now|new Date\(|Math\.random|process\.env|performance\.now|crypto\.randomBytes|randomUUID|getRandomValues)\b/;
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
});
