// NOTES.md "Validity": the TS validator and the kernel's `validate` option define validity
// identically. Every image the kernel suite expects `validate` to refuse must be refused by the TS
// validator too (the kernel half is in read.test.ts; this half needs no guest).
import { MemoryImage, validate } from "@daxfs/core";
import { describe, expect, it } from "vitest";
import { corruptImages } from "./fixture.js";

describe("the TS validator refuses every image the kernel's validate refuses", () => {
  for (const image of corruptImages()) {
    it(`${image.name}: ${image.why}`, () => {
      const report = validate(new MemoryImage(image.bytes, false, image.name));
      expect(report.problems.length, `problems found in ${image.name}`).toBeGreaterThan(0);
    });
  }
});
