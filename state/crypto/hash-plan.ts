// Nested poseidon_hash_many computations as data ("plans"), so one description serves both
// the calling thread (evalPlan) and a whole batch on the backend's hash thread (evalPlans:
// a block's commitment leaves, the transaction hashes of a burst of submissions). A plan is
// a felt or `many(inputs)`, where inputs are plans themselves:
//   many([a, many([b, c])]) = poseidon_hash_many([a, poseidon_hash_many([b, c])])
// Inputs are trusted felts (< P); the callers check them. Never reads the clock, randomness
// or the environment.

import type { Felt } from "../felt.js";
import { hashBackend } from "./hash.js";
import type { AsyncHashOptions, ProgramCheck } from "./hash-backend.js";

export type HashPlan = Felt | ManyPlan;

export interface ManyPlan {
  readonly many: readonly HashPlan[];
}

/** poseidon_hash_many over `inputs` (felts or plans). */
export function many(inputs: readonly HashPlan[]): ManyPlan {
  return { many: inputs };
}

/** A plan's value, computed here. */
export function evalPlan(plan: HashPlan): Felt {
  if (typeof plan === "bigint") return plan;
  const inputs = plan.many;
  const values = new Array<Felt>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const p = inputs[i]!;
    values[i] = typeof p === "bigint" ? p : evalPlan(p);
  }
  return hashBackend().poseidonMany(values);
}

/** Operand of a program that names an earlier job's output (bit 31), as the native addon reads it. */
export const PROGRAM_REF = 0x80000000;

/**
 * Plans as one Poseidon program: jobs in order, each its input count then its operands
 * (a felt index, or PROGRAM_REF | job index). `outputs[i]` is plan i's job, or -1 − felt
 * index when plan i is a bare felt.
 */
export interface PoseidonProgram {
  ops: Uint32Array;
  felts: Felt[];
  jobs: number;
  outputs: Int32Array;
}

export function compilePlans(plans: readonly HashPlan[]): PoseidonProgram {
  const c = new ProgramCompiler();
  const outputs = new Int32Array(plans.length);
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i]!;
    outputs[i] = typeof p === "bigint" ? -1 - (c.felts.push(p) - 1) : c.emit(p);
  }
  const ops = new Uint32Array(c.ops.length);
  for (let i = 0; i < ops.length; i++) ops[i] = c.ops[i]!;
  return { ops, felts: c.felts, jobs: c.jobs, outputs };
}

/**
 * compilePlans' state. A plan's operands are worked out children first (their jobs come
 * before its own) onto one shared stack, then copied to `ops` after its input count: no
 * array, closure or iterator per plan (a block's commitments compile thousands of them).
 */
class ProgramCompiler {
  readonly ops: number[] = [];
  readonly felts: Felt[] = [];
  jobs = 0;
  private readonly stack: number[] = [];

  /** Emits `p`'s job (after its children's); returns its index. */
  emit(p: ManyPlan): number {
    const inputs = p.many;
    const n = inputs.length;
    const stack = this.stack;
    const base = stack.length;
    for (let i = 0; i < n; i++) {
      const x = inputs[i]!;
      stack.push(typeof x === "bigint" ? this.felts.push(x) - 1 : (PROGRAM_REF | this.emit(x)) >>> 0);
    }
    const ops = this.ops;
    ops.push(n);
    for (let i = base; i < base + n; i++) ops.push(stack[i]!);
    stack.length = base;
    return this.jobs++;
  }
}

/** Runs a compiled program with poseidonMany on the calling thread (the reference the addon matches). */
export function runProgram(program: Pick<PoseidonProgram, "ops" | "felts">): Felt[] {
  const { ops, felts } = program;
  const out: Felt[] = [];
  for (let at = 0; at < ops.length; ) {
    const len = ops[at++]!;
    const values = new Array<Felt>(len);
    for (let k = 0; k < len; k++) {
      const v = ops[at + k]!;
      values[k] = v & PROGRAM_REF ? out[(v & ~PROGRAM_REF) >>> 0]! : felts[v]!;
    }
    at += len;
    out.push(hashBackend().poseidonMany(values));
  }
  return out;
}

/**
 * The values of many plans, computed together: on the backend's hash thread when it has one
 * (the caller's thread goes on meanwhile), else here. Same values as evalPlan. `urgent`: see
 * HashBackend.poseidonProgramAsync.
 */
export async function evalPlans(plans: readonly HashPlan[], opts: AsyncHashOptions = {}): Promise<Felt[]> {
  if (plans.length === 0) return [];
  const program = compilePlans(plans);
  const backend = hashBackend();
  const results = program.jobs === 0 ? [] : backend.poseidonProgramAsync ? await backend.poseidonProgramAsync(program.ops, program.felts, opts) : runProgram(program);
  return planValues(program, results);
}

/** Each plan's value: its job's output, or the bare felt it was. */
function planValues(program: PoseidonProgram, outputs: readonly Felt[]): Felt[] {
  const values = new Array<Felt>(program.outputs.length);
  for (let i = 0; i < values.length; i++) {
    const o = program.outputs[i]!;
    values[i] = o >= 0 ? outputs[o]! : program.felts[-1 - o]!;
  }
  return values;
}

/** A signature check over the value of plan `plan` (an index into evalPlansVerifying's plans). */
export interface PlanCheck {
  plan: number;
  r: Felt;
  s: Felt;
  publicKey: Felt;
}

/**
 * evalPlans, then an ECDSA verification of each check over its plan's value, in one trip to the
 * backend's hash thread. Undefined when the backend cannot do both in one job (the caller then
 * hashes and verifies its own way).
 */
export async function evalPlansVerifying(
  plans: readonly HashPlan[],
  checks: readonly PlanCheck[],
  opts: AsyncHashOptions = {},
): Promise<{ values: Felt[]; valid: boolean[] } | undefined> {
  const backend = hashBackend();
  if (!backend.poseidonProgramVerifyAsync) return undefined;
  const program = compilePlans(plans);
  const operand = (plan: number): number => {
    const o = program.outputs[plan];
    if (o === undefined) throw new RangeError(`check names plan ${plan} of ${plans.length}`);
    return o >= 0 ? (PROGRAM_REF | o) >>> 0 : -1 - o;
  };
  const programChecks: ProgramCheck[] = checks.map((c) => ({ msg: operand(c.plan), r: c.r, s: c.s, publicKey: c.publicKey }));
  const { outputs, valid } = await backend.poseidonProgramVerifyAsync(program.ops, program.felts, programChecks, opts);
  return { values: planValues(program, outputs), valid };
}
