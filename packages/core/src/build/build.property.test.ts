import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DAXFS_BLOCK_SIZE, DAXFS_DIRENT_STRIDE } from "@daxfs/format";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { buildTree, deepChain } from "../testing/arbitraries.js";
import { canonicalLinkGroups, describeBuildTree, readBaseTree } from "../testing/read-tree.js";
import { planImage } from "./plan.js";
import { buildImage, writeImageFile } from "./write.js";

const runs = Number(process.env.DAXFS_FUZZ_RUNS ?? 60);
const scratch = mkdtempSync(join(tmpdir(), "daxfs-build-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("random trees", () => {
  it("read back equal to the source, through the codecs", () => {
    fc.assert(
      fc.property(buildTree(), fc.boolean(), (root, branching) => {
        const image = buildImage(root, { branching, deltaSize: 1 << 20 });
        expect(canonicalLinkGroups(readBaseTree(image))).toEqual(
          canonicalLinkGroups(describeBuildTree(root)),
        );
      }),
      { numRuns: runs },
    );
  });

  it("give non-overlapping, block-aligned data items inside the base, inode i+1 in slot i", () => {
    fc.assert(
      fc.property(buildTree(), (root) => {
        const plan = planImage(root);
        const items: Array<[number, number]> = [];
        plan.inodes.forEach((inode, index) => {
          expect(inode.ino).toBe(index + 1);
          const bytes =
            inode.node.kind === "dir"
              ? (inode.entries?.length ?? 0) * DAXFS_DIRENT_STRIDE
              : inode.node.kind === "symlink"
                ? inode.size + 1
                : inode.size;
          if (bytes === 0) return;
          expect(inode.dataOffset % DAXFS_BLOCK_SIZE).toBe(0);
          expect(inode.dataOffset).toBeGreaterThanOrEqual(plan.dataAreaOffset);
          expect(inode.dataOffset + bytes).toBeLessThanOrEqual(plan.baseSize);
          items.push([inode.dataOffset, inode.dataOffset + bytes]);
        });
        items.sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < items.length; i++)
          expect(items[i]?.[0]).toBeGreaterThanOrEqual(items[i - 1]?.[1] ?? 0);
      }),
      { numRuns: runs },
    );
  });

  it("stream to a file byte-identical to the in-memory build", () => {
    let n = 0;
    fc.assert(
      fc.property(buildTree(4), (root) => {
        const path = join(scratch, `img${n++}`);
        const plan = planImage(root, { branching: true, deltaSize: 1 << 20 });
        writeImageFile(plan, path);
        expect(
          readFileSync(path).equals(Buffer.from(buildImage(root, { branching: true, deltaSize: 1 << 20 }))),
        ).toBe(true);
        rmSync(path);
      }),
      { numRuns: Math.min(runs, 25) },
    );
  });
});

it("handles 3000 levels of nesting without recursion", () => {
  const root = deepChain(3000);
  const image = buildImage(root);
  let node = readBaseTree(image);
  for (let i = 0; i < 3000; i++) node = node.children?.[`d${i}`] as typeof node;
  expect(node.children?.leaf?.data).toBe(Buffer.from("leaf").toString("hex"));
});
