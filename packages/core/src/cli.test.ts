// The one size grammar and the UsageError every tool shares (cli.ts), tested once here.
import { describe, expect, it } from "vitest";
import { parseAddress, parseSize, requireSize, UsageError } from "./cli.js";

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

describe("requireSize", () => {
  it("returns the bytes or throws a UsageError naming the option", () => {
    expect(requireSize("2M", "size")).toBe(2 << 20);
    expect(() => requireSize("2Q", "size")).toThrow(UsageError);
    expect(() => requireSize("2Q", "size")).toThrow("invalid size '2Q'");
  });
});
