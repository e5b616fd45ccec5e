import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isDaxfsError } from "./errors.js";
import {
  commandLineArguments,
  compareNames,
  decodeName,
  encodeName,
  hasEscapedBytes,
  hostPath,
  nameByteLength,
  nameTextProblem,
  showName,
} from "./names.js";

const runs = Number(process.env.DAXFS_FUZZ_RUNS ?? 300);
const anyBytes = fc.uint8Array({ maxLength: 40 });

describe("decodeName / encodeName", () => {
  it("give back the exact bytes of any byte string", () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const text = decodeName(bytes);
        expect(Buffer.from(encodeName(text)).equals(Buffer.from(bytes))).toBe(true);
        expect(nameTextProblem(text)).toBeUndefined();
        expect(nameByteLength(text)).toBe(bytes.length);
      }),
      { numRuns: runs },
    );
  });

  it("decode valid UTF-8 as UTF-8 and escape nothing in it", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const bytes = Buffer.from(text, "utf8");
        expect(decodeName(bytes)).toBe(text);
        expect(hasEscapedBytes(text)).toBe(false);
      }),
      { numRuns: runs },
    );
  });

  it("escape each byte of an invalid sequence as U+DC00 + byte, as Python's surrogateescape", () => {
    // Python: b"f\xfe".decode("utf-8", "surrogateescape") == "f\udcfe"
    expect(decodeName(Uint8Array.of(0x66, 0xfe))).toBe("f\udcfe");
    expect(decodeName(Uint8Array.of(0xe2, 0x82, 0x61))).toBe("\udce2\udc82a"); // truncated sequence
    expect(decodeName(Uint8Array.of(0xed, 0xa0, 0x80))).toBe("\udced\udca0\udc80"); // a UTF-8 surrogate
    expect(decodeName(Uint8Array.of(0xc0, 0xaf))).toBe("\udcc0\udcaf"); // overlong '/'
    expect(decodeName(Uint8Array.of(0xc3, 0xa9, 0xff))).toBe("é\udcff");
    expect(hasEscapedBytes("f\udcfe")).toBe(true);
  });

  it("refuse strings no bytes decode to, naming the problem", () => {
    expect(nameTextProblem("\ud800x")).toMatch(/lone surrogate U\+D800/);
    expect(nameTextProblem("\udc41")).toMatch(/lone surrogate U\+DC41/);
    // Escaped bytes that are valid UTF-8: "é" decodes to itself, so this spelling is refused.
    expect(nameTextProblem("\udcc3\udca9")).toMatch(/valid UTF-8/);
    expect(nameTextProblem("😀\udcfe")).toBeUndefined();
    try {
      encodeName("\udcc3\udca9");
      expect.unreachable();
    } catch (error) {
      expect(isDaxfsError(error) && error.code).toBe("EILSEQ");
    }
  });
});

describe("compareNames", () => {
  it("orders names as their bytes (memcmp)", () => {
    const name = fc.oneof(anyBytes.map(decodeName), fc.string({ unit: "grapheme" }));
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(Math.sign(compareNames(a, b))).toBe(
          Math.sign(Buffer.compare(Buffer.from(encodeName(a)), Buffer.from(encodeName(b)))),
        );
      }),
      { numRuns: runs },
    );
    // UTF-16 order puts U+1F600 (units D83D DE00) before U+FF5E; byte order puts it after.
    expect(compareNames("\uff5e", "😀")).toBeLessThan(0);
  });
});

describe("showName", () => {
  it("is one-to-one and prints no control characters or surrogates", () => {
    fc.assert(
      fc.property(anyBytes, anyBytes, (a, b) => {
        const [shownA, shownB] = [showName(decodeName(a)), showName(decodeName(b))];
        expect(shownA === shownB).toBe(Buffer.from(a).equals(Buffer.from(b)));
        // Every code point printable: no C0 or C1 control, DEL or lone surrogate.
        for (const char of shownA) {
          const code = char.codePointAt(0) as number;
          expect(code >= 0x20 && (code < 0x7f || code > 0x9f) && (code < 0xd800 || code > 0xdfff)).toBe(true);
        }
      }),
      { numRuns: runs },
    );
  });

  it("writes bad bytes and controls as \\xHH and a backslash as \\\\", () => {
    expect(showName(decodeName(Buffer.from("f\\\xfe\n", "latin1")))).toBe("f\\\\\\xfe\\x0a");
    expect(showName("plain é 😀")).toBe("plain é 😀");
    // U+009B, a UTF-8 terminal's CSI: "\x9b31m" would turn the rest red.
    expect(showName("a\u009b31m\u0080\u00a0")).toBe("a\\xc2\\x9b31m\\xc2\\x80\u00a0");
  });
});

describe("hostPath", () => {
  it("passes plain strings through and gives the exact bytes otherwise", () => {
    expect(hostPath("/tmp/é")).toBe("/tmp/é");
    expect(hostPath("/tmp/f\udcfe")).toEqual(Buffer.from([0x2f, 0x74, 0x6d, 0x70, 0x2f, 0x66, 0xfe]));
  });
});

describe("commandLineArguments", () => {
  const cmdline =
    (...args: Array<string | number[]>) =>
    () =>
      Buffer.concat(args.flatMap((arg) => [Buffer.from(typeof arg === "string" ? arg : arg), Buffer.of(0)]));

  it("reads back the bytes Node turned into U+FFFD", () => {
    const raw = cmdline("node", "--flag", "cli.js", "img", "cat", [0x2f, 0x66, 0xfe], "");
    expect(commandLineArguments(["img", "cat", "/f\ufffd", ""], raw)).toEqual(["img", "cat", "/f\udcfe", ""]);
  });

  it("keeps Node's arguments when nothing was replaced or the command line differs", () => {
    const never = () => {
      throw new Error("not read");
    };
    expect(commandLineArguments(["a", "é"], never)).toEqual(["a", "é"]);
    // A real U+FFFD in UTF-8 is itself: cmdline agrees and nothing changes.
    expect(commandLineArguments(["x\ufffd"], cmdline("node", "cli.js", "x\ufffd"))).toEqual(["x\ufffd"]);
    expect(commandLineArguments(["x\ufffd"], cmdline("node", "cli.js", "other"))).toEqual(["x\ufffd"]);
    expect(commandLineArguments(["x\ufffd"], never)).toEqual(["x\ufffd"]);
  });
});
