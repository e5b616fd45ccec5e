// Kernel module, delta-space reuse (issue 13 item 3; docs/space.md "Reuse"): one QEMU boot per
// kernel runs CYCLES mount/write 100 KiB/abort-or-commit/umount cycles on an image whose delta
// region holds about 20 such logs without reuse. A mount of a branch that another mount aborts
// keeps its lease, so its log is never handed to a new branch while it is mounted. A mount of a
// region over 90% used (live branches fill it) logs a warning. On the host the image must validate with @daxfs/core, main
// must hold the committed files, and no lease may be left once everything is unmounted.
// Needs qemu-system-x86, busybox-static and the kernel images and headers (test/qemu/README.md);
// without them the suite is reported as skipped, not passed.

import { buildImage, DaxfsImage, MemoryImage, makeDir, makeFile, readLeases, validate } from "@daxfs/core";
import { beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";

const kernels = installedKernels();
const MiB = 1 << 20;
/** 4 MiB region: main takes 1 MiB, a 100 KiB branch log 128 KiB, so ~24 cycles without reuse. */
const CYCLES = 300;
const COMMIT_EVERY = 100;

function tree() {
  const root = makeDir();
  root.children.set("hello.txt", makeFile("Hello from base image"));
  return root;
}

const SCRIPT = `
opts() { echo "phys=$(img_phys space),size=$(img_size space)\${1:+,$1}"; }
mnt() { mkdir -p $1; mount -t daxfs -o "$(opts $2)" none $1; }
dd if=/dev/urandom of=/tmp/data bs=1024 count=100 2>/dev/null
# The victim: /v2 stays mounted while /v1 aborts the branch; its log must stay as it was.
mnt /v1 branch=victim,parent=main && cp /tmp/data /v1/victim.bin && echo "OK victim.mount"
mnt /v2 branch=victim && cmp -s /tmp/data /v2/victim.bin && echo "OK victim.second"
mount -o remount,abort /v1 && umount /v1 && echo "OK victim.abort"
start=$(date +%s)
i=0; fails=0; first=""
while [ $i -lt ${CYCLES} ]; do
  step=""
  mnt /b branch=b$i,parent=main 2>/tmp/err || step=mount
  if [ -z "$step" ]; then
    cp /tmp/data /b/f$i 2>>/tmp/err || step=write
    if [ $(( (i + 1) % ${COMMIT_EVERY} )) -eq 0 ]; then op=commit; else op=abort; fi
    mount -o remount,$op /b 2>>/tmp/err || step="\${step:-$op}"
    umount /b || step="\${step:-umount}"
  fi
  if [ -n "$step" ]; then fails=$((fails+1)); [ -z "$first" ] && first="cycle $i $step: $(dmesg | tail -n 3 | tr '\\n' ' ') $(head -c 200 /tmp/err | tr '\\n' ' ')"; fi
  i=$((i+1))
done
echo "TIME cycles $(( $(date +%s) - start ))"
if [ $fails -eq 0 ]; then echo "OK cycles ${CYCLES}"; else echo "BAD cycles: $fails failed, first $first"; fi
# The victim's mount still reads the bytes it mapped, not another branch's: ESTALE, never other data.
if cat /v2/victim.bin >/tmp/out 2>&1; then cmp -s /tmp/data /tmp/out && echo "OK victim.same" || echo "BAD victim.changed"; else grep -q 'Stale file handle' /tmp/out && echo "OK victim.stale"; fi
umount /v2 && echo "OK victim.umount"
# Fill the region with live branches (each holds its log and the extent it moved from) until it
# is full: the next mount logs the warning.
n=0
while [ $n -lt 30 ]; do
  mnt /f$n branch=f$n,parent=main 2>/dev/null || break
  n=$((n+1))
  cp /tmp/data /f$((n-1))/x 2>/dev/null || break
done
echo "OK full.write $n"
mnt /again && dmesg | grep -qE 'delta region (9[0-9]|100)% used' && echo "OK warning"
dmesg | grep 'delta region' | tail -n 1
umount /again
k=0; while [ $k -lt $n ]; do mount -o remount,abort /f$k 2>/dev/null; umount /f$k; k=$((k+1)); done
echo DONE`;

describe.skipIf(kernels.length === 0)("daxfs.ko delta-space reuse in a QEMU guest", () => {
  for (const kernel of kernels) {
    describe(`Linux ${kernel}`, () => {
      let run: GuestRun;
      const before = buildImage(tree(), { branching: true, deltaSize: 4 * MiB });

      beforeAll(async () => {
        run = await runGuest({
          kernel,
          images: [{ name: "space", bytes: before.slice() }],
          scenarios: [{ name: "space", script: SCRIPT }],
          timeoutSec: 900,
          returnImages: true,
        });
      }, 2_400_000); // a guest waits for the machine-wide guest lock first

      const lines = () => run.scenarios.get("space")?.lines ?? [];

      it(`runs ${CYCLES} cycles of 100 KiB in a 4 MiB region (about 24 without reuse)`, () => {
        const result = run.scenarios.get("space");
        expect(result?.lines, result?.output).toContain("DONE");
        expect(lines().filter((l) => l.startsWith("BAD "))).toEqual([]);
        for (const ok of [
          "victim.mount",
          "victim.second",
          "victim.abort",
          `cycles ${CYCLES}`,
          "victim.umount",
        ])
          expect(lines()).toContain(`OK ${ok}`);
        expect(lines().some((l) => l === "OK victim.same" || l === "OK victim.stale")).toBe(true);
        console.log(`Linux ${kernel}: ${lines().find((l) => l.startsWith("TIME "))} s`);
      });

      it("logs a warning when a mount finds the region over 90% used", () => {
        expect(lines().some((l) => l.startsWith("OK full.write"))).toBe(true);
        expect(lines()).toContain("OK warning");
      });

      it("leaves an image that validates, with the commits in main and no lease behind", () => {
        const after = run.images.get("space") as Uint8Array;
        expect(validate(new MemoryImage(after, false)).problems).toEqual([]);
        const image = DaxfsImage.open(new MemoryImage(after, false));
        const names = image
          .view("main")
          .readdir(1)
          .map((e) => e.name)
          .sort();
        const committed = Array.from(
          { length: CYCLES / COMMIT_EVERY },
          (_, k) => `f${(k + 1) * COMMIT_EVERY - 1}`,
        );
        expect(names).toEqual(["hello.txt", ...committed].sort());
        expect(readLeases(image)).toEqual([]);
      });
    });
  }
});
