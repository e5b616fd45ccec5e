// The one size grammar and the UsageError every tool shares (cli.ts), tested once here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  commanderMessage,
  errorLine,
  jsonErrorText,
  parseAddress,
  parseSize,
  requireDeltaSize,
  requireSize,
  UsageError,
  usageErrorText,
  versionText,
} from "./cli.js";

describe("SIZE arguments", () => {
  it.each([
    ["4096", 4096],
    ["0x1000", 4096],
    ["010", 8],
    ["0", 0],
    ["64M", 64 << 20],
    ["64m", 64 << 20],
    ["4K", 4096],
    ["1G", 2 ** 30],
    ["2GiB", 2 ** 31],
    ["1MiB", 1 << 20],
    ["1mib", 1 << 20],
    ["8KiB", 8192],
    ["1MB", 1 << 20],
    ["0x10M", 16 << 20],
  ])("%s = %d", (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(["", "M", "MiB", "12Q", "-1", "1.5M", "09", "99999999999999999999", "1TiB", "4096B", "1 M"])(
    "%s is not a size",
    (text) => expect(parseSize(text)).toBeNull(),
  );

  it("parses physical addresses with base detection", () => {
    expect(parseAddress("0x100000000")).toBe(0x100000000n);
    expect(parseAddress("4096")).toBe(4096n);
    expect(parseAddress("0x")).toBeNull();
  });
});

describe("requireDeltaSize", () => {
  it("takes 1M and up; below, a usage error naming the option and the least size", () => {
    expect(requireDeltaSize("1M")).toBe(1 << 20);
    expect(() => requireDeltaSize("1048575")).toThrow(
      "-D/--delta: 1048575 bytes cannot hold the main branch's log (1048576 bytes, 1M); give at least 1M",
    );
    expect(() => requireDeltaSize("0")).toThrow(UsageError);
    expect(() => requireDeltaSize("lots")).toThrow("-D/--delta: invalid size 'lots'");
  });
});

describe("requireSize", () => {
  it("returns the bytes or throws a UsageError naming the option", () => {
    expect(requireSize("2M", "size")).toBe(2 << 20);
    expect(() => requireSize("2Q", "size")).toThrow(UsageError);
    expect(() => requireSize("2Q", "-s/--size")).toThrow("-s/--size: invalid size '2Q'");
  });
});

describe("messages", () => {
  it("one line TOOL: WHAT: reason, or the public tool's words for a verbatim message", () => {
    expect(errorLine("mkdaxfs", "src: no such file or directory")).toBe(
      "mkdaxfs: src: no such file or directory\n",
    );
    expect(errorLine("mkdaxfs", "-d/--directory is required", true)).toBe(
      "Error: -d/--directory is required\n",
    );
    expect(errorLine("mkdaxfs", "fsconfig /mnt: Invalid argument (EINVAL)\n  daxfs: bad phys\n")).toBe(
      "mkdaxfs: fsconfig /mnt: Invalid argument (EINVAL); daxfs: bad phys\n",
    );
  });

  it("a usage error is one line and a pointer to --help", () => {
    expect(usageErrorText("daxfs-inspect", new UsageError("--max-problems: invalid number '0'"))).toBe(
      "daxfs-inspect: --max-problems: invalid number '0'\nTry 'daxfs-inspect --help'.\n",
    );
    expect(usageErrorText("mkdaxfs", new UsageError("-d/--directory is required", { verbatim: true }))).toBe(
      "Error: -d/--directory is required\nTry 'mkdaxfs --help'.\n",
    );
  });

  // Commander's and node:util parseArgs' messages in the one form; every form they print, by code.
  it.each([
    ["error: unknown option '--x'", "--x: unknown option"],
    ["error: unknown option '--jsn'\n(Did you mean --json?)", "--jsn: unknown option (Did you mean --json?)"],
    ["error: unknown command 'frob'", "frob: unknown command"],
    ["error: option '-d, --directory <DIR>' argument missing", "-d/--directory: missing value"],
    ["option '-m, --mount <value>' argument missing", "-m/--mount: missing value"],
    ["error: missing required argument 'path'", "PATH: missing argument"],
    ["error: required option '-m, --mount <path>' not specified", "-m/--mount: required option missing"],
    [
      "error: option '--static' cannot be used with option '-b, --branching'",
      "--static: cannot be combined with -b/--branching",
    ],
    ["error: option '-n <n>' argument 'x' is invalid. Not a number.", "-n: invalid value 'x': Not a number."],
    ["option '-h, --help' does not take an argument", "-h/--help: takes no value"],
    [
      "error: too many arguments for 'ls'. Expected 1 argument but got 2.",
      "ls: too many arguments (expected 1, got 2)",
    ],
    ["error: something new", "something new"],
  ])("commander's %j is %j", (message, form) => {
    expect(commanderMessage(message)).toBe(form);
  });

  it("a --json error is one JSON document", () => {
    expect(JSON.parse(jsonErrorText("daxfs-inspect", "ENOENT", "/a: no entry"))).toEqual({
      error: { tool: "daxfs-inspect", code: "ENOENT", message: "/a: no entry" },
    });
  });

  it("--version names the package version (from the nearest package.json) and the format", () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(versionText("daxfs-x", import.meta.url)).toBe(`daxfs-x ${version} (DAXFS format v5)\n`);
  });
});
