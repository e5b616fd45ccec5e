// Built images read back through the image model (DaxfsImage/BranchView) and checked by the
// validator: the builder, the reader and the validity rules (NOTES.md "Validity") must agree.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import { buildTree } from "../testing/arbitraries.js";
import { canonicalLinkGroups, describeBuildTree, describeView } from "../testing/read-tree.js";
import { validate } from "../validate/index.js";
import { buildImage, buildSplitImage } from "./write.js";

const runs = Number(process.env.DAXFS_FUZZ_RUNS ?? 40);

describe("built images through the image model", () => {
  it("read back equal to the source and validate with no problems", () => {
    fc.assert(
      fc.property(buildTree(), fc.constantFrom("static", "branching", "split"), (root, mode) => {
        let image: Uint8Array;
        let backing: Uint8Array | undefined;
        if (mode === "split") ({ image, backing } = buildSplitImage(root, { split: {}, deltaSize: 1 << 20 }));
        else image = buildImage(root, { branching: mode === "branching", deltaSize: 1 << 20 });
        const source = new MemoryImage(image, false);
        const backingSource = backing ? new MemoryImage(backing, false) : undefined;
        const opened = DaxfsImage.open(source, backingSource ? { backing: backingSource } : {});
        const view = opened.view("main");
        expect(canonicalLinkGroups(describeView(view))).toEqual(canonicalLinkGroups(describeBuildTree(root)));
        if (mode !== "static") expect(view.branch?.name).toBe("main");
        const report = validate(source, backing ? { backingSize: backing.length } : {});
        expect(report.problems).toEqual([]);
      }),
      { numRuns: runs },
    );
  });
});
