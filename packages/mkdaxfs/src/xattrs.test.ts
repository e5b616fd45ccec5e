import { describe, expect, it } from "vitest";
import { XattrCensus } from "./xattrs.js";

describe("XattrCensus", () => {
  it("says nothing for a source without extended attributes", () => {
    const census = new XattrCensus(false);
    census.note("/a", []);
    expect(census.warning()).toBeNull();
  });

  it("counts files, lists security.* names first and at most three", () => {
    const census = new XattrCensus(false);
    census.note("/bin/ping", ["security.capability"]);
    census.note("/a", ["user.b", "user.a"]);
    expect(census.warning()).toBe(
      "2 files have extended attributes (security.capability, user.a, user.b), not stored",
    );
    census.note("/c", ["trusted.x", "user.a"]);
    expect(census.warning()).toBe(
      "3 files have extended attributes (security.capability, trusted.x, user.a ...), not stored",
    );
  });

  it("refuses the first file under --strict", () => {
    const census = new XattrCensus(true);
    census.note("/a", []);
    expect(() => census.note("/bin/ping", ["security.capability"])).toThrow(
      "/bin/ping: extended attribute security.capability cannot be stored in a DAXFS image (--strict)",
    );
  });
});
