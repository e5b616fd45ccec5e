// Damaged images never crash the TUI: each either opens in the validation screen or browses with
// errors shown in the panes, on every screen (fast-check, fixed seed; DAXFS_FUZZ_RUNS for more).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY, renderApp, tempDir } from "../../test/harness.js";
import { writeSampleImage } from "../../test/sample-image.js";

let tmp: ReturnType<typeof tempDir>;
let original: Buffer;
beforeAll(() => {
  tmp = tempDir();
  writeSampleImage(join(tmp.dir, "sample.img"));
  original = readFileSync(join(tmp.dir, "sample.img"));
});
afterAll(() => tmp.remove());

const RUNS = Number(process.env.DAXFS_FUZZ_RUNS ?? 30);

/** Where damage tells: the superblock, branch table and base (first 64 KiB), and agent's log. */
const where = fc.oneof(fc.nat(64 * 1024 - 1), fc.integer({ min: 0x112000, max: 0x112000 + 160 }));

describe("damaged images", () => {
  it(
    "open and browse every screen without an exception",
    async () => {
      const damaged = join(tmp.dir, "damaged.img");
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ at: where, value: fc.nat(255) }), { minLength: 1, maxLength: 8 }),
          async (writes) => {
            const bytes = Buffer.from(original);
            for (const { at, value } of writes) bytes[at] = value;
            writeFileSync(damaged, bytes);
            const app = await renderApp(damaged);
            try {
              await app.press(
                KEY.down,
                KEY.tab,
                KEY.enter,
                KEY.down,
                "2",
                KEY.enter,
                "3",
                KEY.down,
                "4",
                KEY.enter,
                "1",
              );
              const frame = app.frame();
              expect(frame).toMatch(/\d browse/);
              expect(frame).not.toMatch(/ERROR|at .*\.tsx?:\d+/);
            } finally {
              app.close();
            }
          },
        ),
        // The example: a free branch slot made non-free after the open (the branch table then fails).
        { seed: 12, numRuns: RUNS, examples: [[[{ at: 7208, value: 4 }]]] },
      );
    },
    RUNS * 1000,
  );
});
