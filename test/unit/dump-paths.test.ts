// The dump directory policy and path resolution (sequencer/dump-paths.ts), text only.
import { describe, expect, it } from "vitest";
import { InvalidParamsError } from "../../sequencer/errors.js";
import { resolveDumpPath, resolveDumpPolicy } from "../../sequencer/dump-paths.js";

describe("resolveDumpPolicy", () => {
  it("defaults to dumps/ beside the data directory, or in the working directory for an in-memory node", () => {
    expect(resolveDumpPolicy({ dbPath: ".perpchain" }, "/srv/node").dumpDir).toBe("/srv/node/dumps");
    expect(resolveDumpPolicy({ dbPath: "/data/chain-a" }, "/srv/node").dumpDir).toBe("/data/dumps");
    expect(resolveDumpPolicy({ dbPath: "/data/chain-a", inMemory: true }, "/srv/node").dumpDir).toBe("/srv/node/dumps");
    expect(resolveDumpPolicy({}, "/srv/node")).toEqual({ dumpDir: "/srv/node/dumps", allowAbsolute: false });
  });

  it("takes --dump-dir relative to the working directory and --allow-absolute-dump-paths as given", () => {
    expect(resolveDumpPolicy({ dumpDir: "backups", allowAbsoluteDumpPaths: true }, "/srv/node")).toEqual({ dumpDir: "/srv/node/backups", allowAbsolute: true });
  });
});

describe("resolveDumpPath", () => {
  const policy = { dumpDir: "/srv/dumps", allowAbsolute: false };

  it("resolves relative names inside the dump directory", () => {
    expect(resolveDumpPath("a.dump", policy)).toBe("/srv/dumps/a.dump");
    expect(resolveDumpPath("./x/./b.dump", policy)).toBe("/srv/dumps/x/b.dump");
  });

  it.each([
    ["../a", /'\.\.'/],
    ["x/../../a", /'\.\.'/],
    ["/etc/passwd", /absolute paths are disabled/],
    ["C:\\x", /absolute paths are disabled/],
    [".", /inside the dump directory/],
    ["a\0b", /NUL/],
    ["x".repeat(1025), /longer than 1024/],
  ])("refuses %j", (path, reason) => {
    expect(() => resolveDumpPath(path, policy)).toThrow(InvalidParamsError);
    expect(() => resolveDumpPath(path, policy)).toThrow(reason);
  });

  it("accepts absolute paths only when enabled, still without '..'", () => {
    const open = { ...policy, allowAbsolute: true };
    expect(resolveDumpPath("/tmp/x.dump", open)).toBe("/tmp/x.dump");
    expect(() => resolveDumpPath("/tmp/../etc/x", open)).toThrow(/'\.\.'/);
  });
});
