// Kernel module, branch slot reuse (issue 9 item 9; docs/space.md "Branch slots"): one QEMU boot per
// kernel runs CYCLES create/write/abort cycles through mount options on an image with a 256 MiB delta
// region, more than the 256-slot table holds without reuse. A second mount of an aborted branch keeps
// its record's slot (its lease, docs/space.md "Reuse") and answers ESTALE. On the host the image must
// validate with @daxfs/core, main must read as before, and the lowest unleased dead slot must hold
// the new branch under a new id.
// Needs qemu-system-x86, busybox-static and the kernel images and headers (test/qemu/README.md);
// without them the suite is reported as skipped, not passed.

import { buildImage, DaxfsImage, MemoryImage, makeDir, makeFile, validate } from "@daxfs/core";
import { BranchState } from "@daxfs/format";
import { beforeAll, describe, expect, it } from "vitest";
import { modelWalk } from "../cross/walk.js";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";

const kernels = installedKernels();
const MiB = 1 << 20;
/** More than the 256-slot table: without reuse, creation fails with ENOSPC near cycle 255. */
const CYCLES = 1000;

function tree() {
  const root = makeDir();
  root.children.set("hello.txt", makeFile("Hello from base image"));
  return root;
}

const SCRIPT = `
opts() { echo "phys=$(img_phys reuse),size=$(img_size reuse)\${1:+,$1}"; }
mnt() { mkdir -p $1; mount -t daxfs -o "$(opts $2)" none $1; }
# The victim: two mounts of one branch; /v1 aborts it, /v2 stays mounted and untouched.
mnt /v1 branch=victim,parent=main && echo victim > /v1/victim.txt && echo "OK victim.mount"
mnt /v2 branch=victim && test "$(cat /v2/victim.txt)" = victim && echo "OK victim.second"
mount -o remount,abort /v1 && umount /v1 && echo "OK victim.abort"
start=$(date +%s)
i=0; fails=0; first=""
while [ $i -lt ${CYCLES} ]; do
  step=""
  mnt /b branch=b$i,parent=main 2>/tmp/err || step=mount
  if [ -z "$step" ]; then
    echo "cycle $i" > /b/f$i || step=write
    mount -o remount,abort /b 2>>/tmp/err || step="\${step:-abort}"
    umount /b || step="\${step:-umount}"
  fi
  if [ -n "$step" ]; then fails=$((fails+1)); [ -z "$first" ] && first="cycle $i $step: $(head -c 200 /tmp/err | tr '\\n' ' ')"; fi
  i=$((i+1))
done
echo "TIME cycles $(( $(date +%s) - start ))"
if [ $fails -eq 0 ]; then echo "OK cycles ${CYCLES}"; else echo "BAD cycles: $fails failed, first $first"; fi
# A live branch now takes the lowest dead slot no lease reaches (not the victim's: /v2 holds it).
mnt /f branch=fresh,parent=main && echo fresh > /f/fresh.txt && echo "OK fresh.mount"
if cat /v2/victim.txt >/tmp/out 2>&1; then echo "BAD stale.read: read $(cat /tmp/out)"; else grep -q 'Stale file handle' /tmp/out && echo "OK stale.read"; fi
if ls /v2 >/tmp/out 2>&1; then echo "BAD stale.ls: listed"; else grep -q 'Stale file handle' /tmp/out && echo "OK stale.ls"; fi
test "$(cat /f/fresh.txt)" = fresh && echo "OK fresh.read"
umount /v2; umount /f
echo DONE`;

describe.skipIf(kernels.length === 0)("daxfs.ko branch slot reuse in a QEMU guest", () => {
  for (const kernel of kernels) {
    describe(`Linux ${kernel}`, () => {
      let run: GuestRun;
      const before = buildImage(tree(), { branching: true, deltaSize: 256 * MiB });

      beforeAll(async () => {
        run = await runGuest({
          kernel,
          images: [{ name: "reuse", bytes: before.slice() }],
          scenarios: [{ name: "reuse", script: SCRIPT }],
          timeoutSec: 900,
          returnImages: true,
        });
      }, 1_000_000);

      const lines = () => run.scenarios.get("reuse")?.lines ?? [];

      it(`runs ${CYCLES} mount/write/abort/umount cycles with a 256-slot table`, () => {
        const result = run.scenarios.get("reuse");
        expect(result?.lines, result?.output).toContain("DONE");
        expect(lines().filter((l) => l.startsWith("BAD "))).toEqual([]);
        for (const ok of ["victim.mount", "victim.second", "victim.abort", `cycles ${CYCLES}`, "fresh.mount"])
          expect(lines()).toContain(`OK ${ok}`);
        console.log(`Linux ${kernel}: ${lines().find((l) => l.startsWith("TIME "))} s`);
      });

      it("answers ESTALE to a second mount of an aborted branch, which keeps its slot", () => {
        expect(lines()).toContain("OK stale.read");
        expect(lines()).toContain("OK stale.ls");
        expect(lines()).toContain("OK fresh.read");
      });

      it("leaves an image that validates, with main unchanged and the slot reused under a new id", () => {
        const after = run.images.get("reuse") as Uint8Array;
        expect(validate(new MemoryImage(after, false)).problems).toEqual([]);
        expect(modelWalk(after, "main")).toEqual(modelWalk(before, "main"));
        const image = DaxfsImage.open(new MemoryImage(after, false));
        const records = image.branches();
        // victim was id 2 in slot 1, kept while /v2 held its lease; each cycle and then fresh took a
        // new id and, the table being full, the lowest dead unleased slot: slot 2. Unmounting fresh
        // uncommitted dropped it (SPEC 3.9.3).
        expect(image.readBranchRecord(1)).toMatchObject({ id: 2, state: BranchState.ABORTED });
        expect(image.readBranchRecord(2)).toMatchObject({ id: CYCLES + 3, state: BranchState.ABORTED });
        expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
        expect(records.filter((r) => r.state === BranchState.ACTIVE).map((r) => r.name)).toEqual(["main"]);
      });
    });
  }
});
