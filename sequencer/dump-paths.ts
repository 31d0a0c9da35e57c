// Where devnet_dump / devnet_load may read and write: a path a client names is taken relative
// to the node's dump directory, may not climb out of it (`..`, a symlinked parent), and is
// absolute only when the operator started the node with absolute paths enabled. File-system
// failures become typed RPC errors (FileError) with Node's errno code.
// Must never touch a path it has not checked, and never turn a bad client path into an
// exception the RPC layer does not know (-32603).

import { mkdir, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve, sep, win32 } from "node:path";
import { FileError, InvalidParamsError } from "./errors.js";

export interface DumpPathPolicy {
  /** Directory relative paths are resolved against (absolute after resolveDumpPolicy). */
  dumpDir: string;
  /** Accept absolute paths as given (`--allow-absolute-dump-paths`). Default false. */
  allowAbsolute: boolean;
}

/** Longest path a client may name, in characters (Linux PATH_MAX is 4096 bytes). */
export const MAX_DUMP_PATH_CHARS = 1024;

/**
 * The dump directory: the one given, else `dumps/` beside the data directory (`--db`), else
 * `dumps/` in the working directory (in-memory node). Always an absolute path.
 */
export function resolveDumpPolicy(o: { dumpDir?: string; allowAbsoluteDumpPaths?: boolean; dbPath?: string; inMemory?: boolean }, cwd: string = process.cwd()): DumpPathPolicy {
  const base = o.dumpDir ?? (o.dbPath && !o.inMemory ? join(dirname(resolve(cwd, o.dbPath)), "dumps") : join(cwd, "dumps"));
  return { dumpDir: resolve(cwd, base), allowAbsolute: o.allowAbsoluteDumpPaths === true };
}

/**
 * The absolute file a client's `path` param names under `policy`, or InvalidParamsError.
 * Pure: checks the text only (see prepareDumpTarget for the file system side).
 */
export function resolveDumpPath(requested: unknown, policy: DumpPathPolicy, field = "path"): string {
  if (typeof requested !== "string" || requested.length === 0) throw new InvalidParamsError(field, "expected a file path");
  if (requested.length > MAX_DUMP_PATH_CHARS) throw new InvalidParamsError(field, `path longer than ${MAX_DUMP_PATH_CHARS} characters`);
  if (requested.includes("\0")) throw new InvalidParamsError(field, "path contains a NUL character");
  if (requested.split(/[\\/]/).includes("..")) throw new InvalidParamsError(field, "'..' is not allowed in a dump path");
  if (isAbsolute(requested) || win32.isAbsolute(requested)) {
    if (!policy.allowAbsolute)
      throw new InvalidParamsError(field, "absolute paths are disabled: give a path relative to the dump directory (or start the node with --allow-absolute-dump-paths)");
    return resolve(requested);
  }
  const target = resolve(policy.dumpDir, requested);
  if (!target.startsWith(policy.dumpDir + sep)) throw new InvalidParamsError(field, "path must name a file inside the dump directory");
  return target;
}

/**
 * Before writing `target`: create its parent directories when they lie inside the dump
 * directory, and check (after resolving symlinks) that the parent is still inside it.
 * Absolute targets (allowed by policy) are used as they are: nothing is created.
 */
export async function prepareDumpTarget(target: string, policy: DumpPathPolicy, requested: string): Promise<void> {
  await checkedParent(target, policy, requested, true);
}

/** Before reading `target`: the same containment check, nothing created. */
export async function checkDumpSource(target: string, policy: DumpPathPolicy, requested: string): Promise<void> {
  await checkedParent(target, policy, requested, false);
}

async function checkedParent(target: string, policy: DumpPathPolicy, requested: string, create: boolean): Promise<void> {
  if (!target.startsWith(policy.dumpDir + sep)) return; // an absolute path the operator allowed
  const parent = dirname(target);
  try {
    if (create) await mkdir(parent, { recursive: true });
    const [realDir, realParent] = await Promise.all([realpath(policy.dumpDir), realpath(parent)]);
    if (realParent !== realDir && !realParent.startsWith(realDir + sep))
      throw new InvalidParamsError("path", "path leaves the dump directory through a symbolic link");
  } catch (e) {
    throw asFileError(e, requested);
  }
}

/**
 * A Node file-system error (it has an errno `code` such as ENOENT, EACCES, EISDIR) as a typed
 * RPC error; RPC errors pass through; anything else is returned unchanged (a real bug).
 */
export function asFileError(e: unknown, requested: string): unknown {
  if (e instanceof InvalidParamsError || e instanceof FileError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return new FileError(requested, code, describeErrno(code));
  return e;
}

function describeErrno(code: string): string {
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "a parent of the path is not a directory";
    case "ENOSPC":
      return "no space left on device";
    case "EROFS":
      return "read-only file system";
    case "ENAMETOOLONG":
      return "file name too long";
    case "ELOOP":
      return "too many symbolic links";
    case "EMFILE":
    case "ENFILE":
      return "too many open files";
    default:
      return `file system error ${code}`;
  }
}
