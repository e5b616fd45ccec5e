// NOTES.md "Validity": the TS validator and the kernel's `validate` option define validity
// identically. This half needs no guest: every image the kernel suite expects `validate` to refuse
// is refused by the TS validator too (the kernel half is in read.test.ts), and the regression
// images of fixtures/validators/ get the verdicts validators-agree-kernel.test.ts checks in a guest.
import { MemoryImage, validate } from "@daxfs/core";
import { describe, expect, it } from "vitest";
import { corruptImages } from "./fixture.js";
import { refusedCases, validatorFixtures } from "./validator-fixtures.js";

describe("the TS validator refuses every image the kernel's validate refuses", () => {
  for (const image of corruptImages()) {
    it(`${image.name}: ${image.why}`, () => {
      const report = validate(new MemoryImage(image.bytes, false, image.name));
      expect(report.problems.length, `problems found in ${image.name}`).toBeGreaterThan(0);
    });
  }
});

describe("regression images where the validators disagreed", () => {
  const fixtures = validatorFixtures();
  // The field each image was damaged in, as its first problem names it.
  const expected: Record<string, string> = {
    f007: "delta main@0x1b321.old_parent_ino",
    f048: "delta main@0x1b481.mode",
    m013: "branch 0.branch_id",
    m020: "branch 1.delta_log_size",
    m048: "superblock.delta_alloc_offset",
    m057: "delta main@0x1b3eb.entry",
  };

  it("holds every image of the README", () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(
      [...Object.keys(expected), "public_module_mounted_main"].sort(),
    );
  });

  for (const c of refusedCases(fixtures)) {
    it(`${c.name}: refused, first for ${expected[c.name]}`, () => {
      expect(c.problems.length).toBeGreaterThan(0);
      expect(`${c.problems[0]!.structure}.${c.problems[0]!.field}`).toBe(expected[c.name]);
    });
  }

  it("accepts the public tools' image after the public module mounted main (next_local_ino 2)", () => {
    const image = fixtures.find((f) => f.name === "public_module_mounted_main")!;
    expect(validate(new MemoryImage(image.bytes, false)).problems).toEqual([]);
  });
});
