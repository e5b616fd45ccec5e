// The rootfs end to end on daxfs.ko (issue 13 item 6): the debootstrap rootfs built by mkdaxfs is
// the NVDIMM of a Linux 6.12 QEMU guest; the guest mounts a branch, chroots into it, runs the
// rootfs's own dpkg -i and apt-get install of .debs the test built, and commits; the host then
// validates the image read back from the pack and reads the packages through @daxfs/core.
// docs/testing.md "A real rootfs".
//
// Runs under CI=true or DAXFS_E2E_ROOTFS=1 (reported skipped otherwise), one boot.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DaxfsImage, formatProblem, MemoryImage, validate } from "@daxfs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";
import { buildDeb, ensureRootfs, tool } from "./rootfs.js";

const enabled = process.env.CI === "true" || process.env.DAXFS_E2E_ROOTFS === "1";
const KERNEL = "6.12";
const hasKernel = enabled && installedKernels().includes(KERNEL);
const README = "installed by dpkg on a daxfs.ko branch\n";

/**
 * The guest: branch mount, chroot with /proc, /dev and /dev/pts (apt logs through a pty), dpkg -i
 * of one .deb and apt-get install of another, commit, main mounted with validate.
 */
function scenario(debOnHost: string, aptDebOnHost: string): string {
  const deb = debOnHost.split("/").pop() as string;
  const aptDeb = aptDebOnHost.split("/").pop() as string;
  return `
set -e
# Whatever fails, nothing stays mounted inside the branch (rmmod at the end needs that).
trap 'rc=$?; umount /mnt/r/dev/pts 2>/dev/null || :; umount /mnt/r/dev 2>/dev/null || :; umount /mnt/r/proc 2>/dev/null || :; exit $rc' EXIT
daxmount root /mnt/r branch=apt,parent=main
echo MOUNTED
mount -t proc proc /mnt/r/proc
mount -o bind /dev /mnt/r/dev
mkdir -p /mnt/r/dev/pts
mount -t devpts devpts /mnt/r/dev/pts
cp "/hostroot${debOnHost}" "/hostroot${aptDebOnHost}" /mnt/r/tmp/
in_root() { chroot /mnt/r /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
echo COPIED
in_root dpkg -i "/tmp/${deb}" 2>&1
in_root apt-get install -y "/tmp/${aptDeb}" 2>&1
in_root rm "/tmp/${deb}" "/tmp/${aptDeb}"
in_root dpkg -l 'daxfs-kernel*' | awk '$1 == "ii" { print "LISTED " $1 " " $2 }'
echo "RAN $(in_root daxfs-kernel)"
umount /mnt/r/dev/pts
umount /mnt/r/dev
umount /mnt/r/proc
mount -o remount,commit /mnt/r
umount /mnt/r
daxmount root /mnt/m validate
echo "MAIN $(cat /mnt/m/usr/share/daxfs-kernel/README)"
grep -A1 '^Package: daxfs-kernel' /mnt/m/var/lib/dpkg/status | sed -n 's/^Status: /STATUS /p'
echo DONE
`;
}

describe.skipIf(!hasKernel)(
  `dpkg -i and apt-get in a chroot on a daxfs.ko branch (Linux ${KERNEL}; CI=true or DAXFS_E2E_ROOTFS=1)`,
  () => {
    let run: GuestRun;
    let debDir: string;

    beforeAll(async () => {
      const rootfs = ensureRootfs();
      // Outside /tmp: the guest's /tmp is its own tmpfs, also inside /hostroot.
      mkdirSync("/var/tmp", { recursive: true });
      debDir = mkdtempSync("/var/tmp/daxfs-e2e-kernel-");
      const deb = buildDeb(debDir, "daxfs-kernel", [
        {
          path: "usr/bin/daxfs-kernel",
          content: Buffer.from("#!/bin/sh\necho hello from daxfs.ko\n"),
          mode: 0o755,
        },
        { path: "usr/share/daxfs-kernel/README", content: Buffer.from(README) },
      ]);
      const aptDeb = buildDeb(debDir, "daxfs-kernel-apt", [
        { path: "usr/share/daxfs-kernel-apt/README", content: Buffer.from("installed by apt-get\n") },
      ]);
      const image = join(debDir, "rootfs.daxfs");
      tool("mkdaxfs", ["-d", rootfs, "-o", image, "-b", "-D", "64M"]);
      run = await runGuest({
        kernel: KERNEL,
        images: [{ name: "root", bytes: new Uint8Array(readFileSync(image)) }],
        scenarios: [{ name: "dpkg", script: scenario(deb, aptDeb) }],
        hostRoot: true,
        timeoutSec: 900,
        returnImages: true,
      });
    }, 1_800_000);

    afterAll(() => {
      if (debDir) rmSync(debDir, { recursive: true, force: true });
    });

    it("installs with dpkg -i and apt-get install in the chroot (dpkg -l: ii), commits, and main mounted with validate shows them", () => {
      const result = run.scenarios.get("dpkg");
      expect(result?.exitCode, result?.output).toBe(0);
      const lines = result?.lines ?? [];
      expect(lines).toContain("DONE");
      expect(lines).toContain("LISTED ii daxfs-kernel");
      expect(lines).toContain("LISTED ii daxfs-kernel-apt");
      expect(lines).toContain("RAN hello from daxfs.ko");
      expect(lines).toContain(`MAIN ${README.trim()}`);
      expect(lines.filter((line) => line === "STATUS install ok installed")).toHaveLength(2);
    });

    it("the image the guest left validates on the host and @daxfs/core reads the package from main", () => {
      const bytes = run.images.get("root") as Uint8Array;
      const source = new MemoryImage(bytes, false);
      expect(validate(source).problems.map(formatProblem)).toEqual([]);
      const main = DaxfsImage.open(source).view("main");
      const lookup = (path: string) =>
        path
          .split("/")
          .filter(Boolean)
          .reduce((ino, name) => main.lookup(ino, name), 1);
      const readme = lookup("/usr/share/daxfs-kernel/README");
      expect(new TextDecoder().decode(main.read(readme, 0, 4096))).toBe(README);
      const status = lookup("/var/lib/dpkg/status");
      const text = new TextDecoder().decode(main.read(status, 0, 4 << 20));
      expect(text).toContain("Package: daxfs-kernel\nStatus: install ok installed\n");
      expect(text).toContain("Package: daxfs-kernel-apt\nStatus: install ok installed\n");
      expect(DaxfsImage.open(source).findBranch("apt")).toBeUndefined();
    });
  },
);
