// A small JSON-Schema validator for the Starknet OpenRPC documents (test/vectors/spec/), so tests
// can check any response or notification against the spec without a new dependency.
//
// Supports the keywords the 0.10.3 documents use: $ref (within a file, "#/components/...", and
// across files, "./api/<file>#/components/..."), type, properties, required (array, or a single
// string as a few spec errors write it), additionalProperties, items, minItems, maxItems, enum,
// const, pattern, minimum, maximum, allOf, anyOf, oneOf (exactly one branch), not, and the
// OpenRPC content-descriptor wrapper {name, schema} some components use. Annotation keywords are
// ignored; any other keyword throws, so an unsupported one is never silently skipped.

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SPEC_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "vectors", "spec");

export type Schema = Record<string, unknown> | boolean;

export interface ValidateOptions {
  /**
   * "strict" (JSON Schema): exactly one oneOf branch may match. "lenient": at least one.
   * The spec's oneOfs are not always exclusive: e.g. a confirmed block also satisfies
   * PRE_CONFIRMED_BLOCK_* (no additionalProperties: false), so block results need "lenient".
   */
  oneOf?: "strict" | "lenient";
}

export interface SchemaIssue {
  /** JSON path of the offending value, "$" for the root. */
  path: string;
  message: string;
}

const ANNOTATIONS = new Set(["title", "description", "$comment", "name", "summary", "default", "examples", "format"]);
const KEYWORDS = new Set([
  "$ref",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "const",
  "pattern",
  "minimum",
  "maximum",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "schema",
]);

/** A schema together with the file its relative $refs resolve against. */
interface Located {
  schema: Schema;
  file: string;
}

export class SpecSchemas {
  private readonly docs = new Map<string, Record<string, unknown>>();
  private readonly patterns = new Map<string, RegExp>();
  private strictOneOf = true;

  /** Load every *.json OpenRPC document of `dir` (default: test/vectors/spec). */
  static load(dir = SPEC_DIR): SpecSchemas {
    const s = new SpecSchemas();
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")))
      s.docs.set(f, JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>);
    return s;
  }

  files(): string[] {
    return [...this.docs.keys()].sort();
  }

  document(file: string): Record<string, unknown> {
    const d = this.docs.get(file);
    if (!d) throw new Error(`no spec document ${file}`);
    return d;
  }

  /** Issues of `value` against component `name` (searched in `file`, else in every document). */
  validateComponent(value: unknown, name: string, file?: string, opts: ValidateOptions = {}): SchemaIssue[] {
    return this.run(value, this.component(name, file), opts);
  }

  /** Issues of `value` against the result schema of `method`. */
  validateResult(value: unknown, method: string, opts: ValidateOptions = {}): SchemaIssue[] {
    const { m, file } = this.method(method);
    if (m.result === undefined) throw new Error(`${method} has no result (a notification): validate its "result" param`);
    return this.run(value, { schema: (m.result as Record<string, unknown>).schema as Schema, file }, opts);
  }

  /** Issues of `value` against the schema of param `param` of `method` (also notification params). */
  validateParam(value: unknown, method: string, param: string, opts: ValidateOptions = {}): SchemaIssue[] {
    const { m, file } = this.method(method);
    const p = (m.params as Record<string, unknown>[]).find((p) => p.name === param);
    if (!p) throw new Error(`${method} has no param ${param}`);
    return this.run(value, { schema: p.schema as Schema, file }, opts);
  }

  /** Issues of an error's `data` against the spec's data schema for that error name. */
  validateErrorData(value: unknown, errorName: string): SchemaIssue[] {
    for (const [file, doc] of this.docs) {
      const errors = ((doc.components as Record<string, unknown> | undefined)?.errors ?? {}) as Record<string, Record<string, unknown>>;
      const e = errors[errorName];
      if (!e) continue;
      if (e.data === undefined) return value === undefined ? [] : [{ path: "$", message: `${errorName} defines no data` }];
      // A few errors write `"data": "string"` meaning a string.
      const schema: Schema = typeof e.data === "string" ? { type: e.data } : (e.data as Schema);
      return this.run(value, { schema, file }, {});
    }
    throw new Error(`no error named ${errorName} in the spec`);
  }

  /** Issues of `value` against an arbitrary schema whose relative $refs resolve in `file`. */
  validateSchema(value: unknown, schema: Schema, file: string, opts: ValidateOptions = {}): SchemaIssue[] {
    return this.run(value, { schema, file }, opts);
  }

  /** Names of every method of every document. */
  methodNames(): string[] {
    const out: string[] = [];
    for (const doc of this.docs.values()) for (const m of (doc.methods ?? []) as Record<string, unknown>[]) out.push(m.name as string);
    return out;
  }

  private method(name: string): { m: Record<string, unknown>; file: string } {
    for (const [file, doc] of this.docs)
      for (const m of (doc.methods ?? []) as Record<string, unknown>[]) if (m.name === name) return { m, file };
    throw new Error(`no method ${name} in the spec`);
  }

  private component(name: string, file?: string): Located {
    const files = file ? [file] : ["starknet_api_openrpc.json", ...this.docs.keys()];
    for (const f of files) {
      const schemas = ((this.document(f).components as Record<string, unknown> | undefined)?.schemas ?? {}) as Record<string, Schema>;
      if (schemas[name] !== undefined) return { schema: schemas[name]!, file: f };
    }
    throw new Error(`no component schema ${name}`);
  }

  private run(value: unknown, at: Located, opts: ValidateOptions): SchemaIssue[] {
    const issues: SchemaIssue[] = [];
    this.strictOneOf = (opts.oneOf ?? "strict") === "strict";
    this.check(value, at, "$", issues, 0);
    return issues;
  }

  /** Resolve "#/a/b" or "./api/<file>#/a/b" from `file`. */
  private resolve(ref: string, file: string): Located {
    const hash = ref.indexOf("#");
    if (hash === -1) throw new Error(`unsupported $ref without fragment: ${ref}`);
    const target = hash === 0 ? file : ref.slice(0, hash).split("/").pop()!;
    let node: unknown = this.document(target);
    for (const part of ref.slice(hash + 2).split("/")) {
      node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      if (node === undefined) throw new Error(`unresolvable $ref ${ref} (from ${file})`);
    }
    return { schema: node as Schema, file: target };
  }

  private check(value: unknown, at: Located, path: string, issues: SchemaIssue[], depth: number): void {
    if (depth > 200) throw new Error(`schema recursion too deep at ${path}`);
    const { schema, file } = at;
    if (schema === true) return;
    if (schema === false) return void issues.push({ path, message: "no value is allowed here" });
    for (const k of Object.keys(schema))
      if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`unsupported schema keyword "${k}" at ${path} (${file})`);
    const sub = (s: unknown, p = path) => this.check(value, { schema: s as Schema, file }, p, issues, depth + 1);
    const passes = (s: unknown): SchemaIssue[] => {
      const inner: SchemaIssue[] = [];
      this.check(value, { schema: s as Schema, file }, path, inner, depth + 1);
      return inner;
    };

    if (schema.schema !== undefined) sub(schema.schema);
    if (typeof schema.$ref === "string") {
      const target = this.resolve(schema.$ref, file);
      this.check(value, target, path, issues, depth + 1);
    }
    if (schema.type !== undefined && !matchesType(value, schema.type as string | string[]))
      return void issues.push({ path, message: `expected ${String(schema.type)}, got ${typeName(value)}` });
    if (schema.enum !== undefined && !(schema.enum as unknown[]).some((e) => deepEqual(e, value)))
      issues.push({ path, message: `expected one of ${JSON.stringify(schema.enum)}, got ${JSON.stringify(value)}` });
    if ("const" in schema && !deepEqual(schema.const, value))
      issues.push({ path, message: `expected ${JSON.stringify(schema.const)}` });
    if (typeof value === "string" && typeof schema.pattern === "string" && !this.regex(schema.pattern).test(value))
      issues.push({ path, message: `"${value}" does not match ${schema.pattern}` });
    if (typeof value === "number") {
      if (typeof schema.minimum === "number" && value < schema.minimum) issues.push({ path, message: `${value} < minimum ${schema.minimum}` });
      if (typeof schema.maximum === "number" && value > schema.maximum) issues.push({ path, message: `${value} > maximum ${schema.maximum}` });
    }
    if (Array.isArray(value)) {
      if (typeof schema.minItems === "number" && value.length < schema.minItems)
        issues.push({ path, message: `${value.length} items < minItems ${schema.minItems}` });
      if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
        issues.push({ path, message: `${value.length} items > maxItems ${schema.maxItems}` });
      if (schema.items !== undefined)
        value.forEach((v, i) => this.check(v, { schema: schema.items as Schema, file }, `${path}[${i}]`, issues, depth + 1));
    }
    if (isPlainObject(value)) {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = typeof schema.required === "string" ? [schema.required] : ((schema.required ?? []) as string[]);
      for (const r of required) if (!(r in value)) issues.push({ path, message: `missing required property "${r}"` });
      for (const [k, v] of Object.entries(value)) {
        if (props[k] !== undefined) this.check(v, { schema: props[k]!, file }, `${path}.${k}`, issues, depth + 1);
        else if (schema.additionalProperties === false) issues.push({ path, message: `unexpected property "${k}"` });
        else if (typeof schema.additionalProperties === "object")
          this.check(v, { schema: schema.additionalProperties as Schema, file }, `${path}.${k}`, issues, depth + 1);
      }
    }
    if (Array.isArray(schema.allOf)) for (const s of schema.allOf) sub(s);
    if (Array.isArray(schema.anyOf)) {
      const results = schema.anyOf.map(passes);
      if (!results.some((r) => r.length === 0)) issues.push({ path, message: `matches no anyOf branch: ${summarize(results)}` });
    }
    if (Array.isArray(schema.oneOf)) {
      const results = schema.oneOf.map(passes);
      const ok = results.filter((r) => r.length === 0).length;
      if (ok === 0) issues.push({ path, message: `matches no oneOf branch: ${summarize(results)}` });
      else if (ok > 1 && this.strictOneOf) issues.push({ path, message: `matches ${ok} oneOf branches, exactly one expected` });
    }
    if (schema.not !== undefined && passes(schema.not).length === 0) issues.push({ path, message: `must not match ${JSON.stringify(schema.not)}` });
  }

  private regex(pattern: string): RegExp {
    let r = this.patterns.get(pattern);
    if (!r) this.patterns.set(pattern, (r = new RegExp(pattern, "u")));
    return r;
  }
}

function matchesType(value: unknown, type: string | string[]): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case "string":
        return typeof value === "string";
      case "integer":
        return typeof value === "number" && Number.isInteger(value);
      case "number":
        return typeof value === "number" && Number.isFinite(value);
      case "boolean":
        return typeof value === "boolean";
      case "null":
        return value === null;
      case "array":
        return Array.isArray(value);
      case "object":
        return isPlainObject(value);
      default:
        throw new Error(`unsupported type "${t}"`);
    }
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && Number.isInteger(v)) return "integer";
  return typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function summarize(results: SchemaIssue[][]): string {
  return results.map((r, i) => `[${i}] ${r.slice(0, 2).map((x) => `${x.path} ${x.message}`).join("; ")}`).join(" | ");
}
