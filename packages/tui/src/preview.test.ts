import { describe, expect, it } from "vitest";
import { hunks, lineDiff } from "./line-diff.js";
import { hexPage, looksBinary, textPage } from "./preview.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("text pages", () => {
  it("numbers lines and says where the next page starts", () => {
    const text = "one\ntwo\nthree\nfour\n";
    const page = textPage(bytes(text), 0, 1, 2, text.length);
    expect(page.lines).toEqual(["1 one", "2 two"]);
    expect(page.next).toEqual({ offset: 8, line: 3 });
    const second = textPage(bytes(text).subarray(8), 8, 3, 2, text.length);
    expect(second.lines).toEqual(["3 three", "4 four"]);
    expect(second.next).toBeUndefined();
  });

  it("cuts a line longer than the read and goes on after it", () => {
    const page = textPage(bytes("abcdef"), 0, 1, 5, 100);
    expect(page.lines).toEqual(["1 abcdef"]);
    expect(page.next).toEqual({ offset: 6, line: 2 });
  });
});

describe("hex pages", () => {
  it("prints 16 or 8 bytes a row with their ASCII", () => {
    const data = bytes("ABCDEFGHIJKLMNOPQRS");
    expect(hexPage(data, 0, 4, data.length).lines).toEqual([
      "00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|",
      "00000010  51 52 53                                          |QRS|",
    ]);
    const narrow = hexPage(data, 0x100, 1, 0x200, 8);
    expect(narrow.lines).toEqual(["00000100  41 42 43 44 45 46 47 48  |ABCDEFGH|"]);
    expect(narrow.next).toEqual({ offset: 0x108, line: 1 });
  });

  it("tells binary from text", () => {
    expect(looksBinary(bytes("plain text\n\twith tabs"))).toBe(false);
    expect(looksBinary(Uint8Array.of(0x41, 0, 0x42))).toBe(true);
    expect(looksBinary(Uint8Array.of(1, 2, 3, 4, 0x41))).toBe(true);
    expect(looksBinary(new Uint8Array(0))).toBe(false);
  });
});

describe("line diff", () => {
  it("keeps common lines and shows a changed run as removals then additions", () => {
    expect(lineDiff("a\nb\nc", "a\nB\nc\nd")).toEqual(["  a", "- b", "+ B", "  c", "+ d"]);
    expect(lineDiff("same", "same")).toEqual(["  same"]);
    expect(lineDiff("x\ny", "y")).toEqual(["- x", "  y"]);
  });
});

describe("printable", () => {
  it("shows control characters from an image as ?", async () => {
    const { printable } = await import("./printable.js");
    expect(printable("evil\u001b[2Jname\u0007\u009b")).toBe("evil?[2Jname??");
    expect(printable("plain ünïcode")).toBe("plain ünïcode");
  });
});

describe("splitKeys", () => {
  it("names every key of one read, in order", async () => {
    const { splitKeys } = await import("./keymap.js");
    expect(splitKeys("\u001b[B\u001b[B\u001b[A")).toEqual(["down", "down", "up"]);
    expect(splitKeys("\u001bOB\u001b[6~\u001b[5~\u001b[3~")).toEqual([
      "down",
      "pageDown",
      "pageUp",
      "delete",
    ]);
    expect(splitKeys("mo\r\t \u007f")).toEqual(["m", "o", "return", "tab", "space", "backspace"]);
    expect(splitKeys("\u0003\u001b")).toEqual(["ctrl-c", "escape"]);
    expect(splitKeys("\u001b[15~q\u001b[H")).toEqual(["q"]); // F5 and Home are not bound: skipped whole
    expect(splitKeys("é😀")).toEqual(["é", "😀"]);
  });
});

describe("hunks", () => {
  it("keeps changed runs with three lines of context under @@ markers, as diff -u", () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const after = [...before.slice(0, 1), "new 2", ...before.slice(2), "appended"];
    expect(hunks(lineDiff(before.join("\n"), after.join("\n")))).toEqual([
      "@@ -1,5 +1,5 @@",
      "  line 1",
      "- line 2",
      "+ new 2",
      "  line 3",
      "  line 4",
      "  line 5",
      "@@ -18,3 +18,4 @@",
      "  line 18",
      "  line 19",
      "  line 20",
      "+ appended",
    ]);
    expect(hunks(lineDiff("same", "same"))).toEqual([]);
  });
});
