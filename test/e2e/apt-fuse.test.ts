// End to end on a real rootfs (issue 13 item 6): a debootstrap'ed Debian bookworm built into a
// branching image by mkdaxfs, a daxfs-fuse branch mounted with allow_other, a chroot on it where
// dpkg -i and apt-get install of local .debs succeed, a commit through daxfs-branch, main
// re-mounted showing the packages, the image validated; the space an apt workload takes once
// committed; 1,000 agent cycles on the same image. docs/testing.md "A real rootfs".
//
// Heavy (debootstrap needs a mirror, the first time): runs under CI=true or DAXFS_E2E_ROOTFS=1,
// and is reported as skipped otherwise. DAXFS_E2E_APT_MB sets the apt workload (default 40 MB).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  abortBranch,
  acquireLease,
  BranchFiles,
  BranchWriter,
  branchContext,
  commitBranch,
  createBranch,
  DaxfsImage,
  type DeltaUsage,
  deltaUsage,
  FileImage,
  formatProblem,
  MemoryImage,
  releaseLease,
  validate,
} from "@daxfs/core";
import { FuseHarness, type RunningMount } from "@daxfs/fuse-ref/testing";
import { mapFile } from "@daxfs/linux";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDeb, Chroot, ensureRootfs, payloadFiles, tool } from "./rootfs.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const enabled = process.env.CI === "true" || process.env.DAXFS_E2E_ROOTFS === "1";
const workloadMB = Number(process.env.DAXFS_E2E_APT_MB ?? 40);
const NOBODY = 65534;

/** The image file's branch table and space, read without a mount (read-only, no lease). */
function readImage<T>(path: string, fn: (image: DaxfsImage) => T): T {
  const source = FileImage.open(path);
  try {
    return fn(DaxfsImage.open(source));
  } finally {
    source.close();
  }
}

function usage(path: string): DeltaUsage {
  const found = readImage(path, (image) => deltaUsage(image));
  if (!found) throw new Error(`${path}: not a branching image`);
  return found;
}

function validateClean(path: string): void {
  const result = tool("inspect", [path, "validate"], false);
  expect(result.stdout + result.stderr).toContain("No errors found");
  expect(result.status).toBe(0);
}

describe.skipIf(!enabled)(
  "a debootstrap rootfs on daxfs-fuse branches (CI=true or DAXFS_E2E_ROOTFS=1)",
  () => {
    const harness = new FuseHarness();
    let image: string;
    let debs: string;
    const chroots: Chroot[] = [];

    /** A writable branch of `image` with a chroot on it; the test stops both. */
    async function branchChroot(name: string): Promise<{ mount: RunningMount; chroot: Chroot }> {
      const mount = await harness.mount(image, [
        "--branch",
        name,
        "--parent",
        "main",
        "-o",
        "allow_other,default_permissions",
      ]);
      const chroot = new Chroot(mount.mountpoint);
      chroots.push(chroot);
      return { mount, chroot };
    }

    /** Copies host files into the chroot's /tmp through the mount (a write in the branch). */
    function copyIn(chroot: Chroot, files: string[]): string[] {
      return files.map((file) => {
        const name = file.split("/").pop() as string;
        writeFileSync(join(chroot.root, "tmp", name), readFileSync(file));
        return `/tmp/${name}`;
      });
    }

    beforeAll(() => {
      // Under CI these are requirements, not reasons to skip.
      if (process.getuid?.() !== 0) throw new Error("the rootfs tests need root (chroot, mount --bind)");
      if (!existsSync("/dev/fuse")) throw new Error("the rootfs tests need /dev/fuse");
      const rootfs = ensureRootfs();
      image = join(harness.dir, "rootfs.daxfs");
      // Room for the apt workload's log (the .debs copied in, then unpacked: about twice the
      // workload, plus an eighth of headroom) and main's log it is merged into (as much again).
      const deltaMiB = Math.max(512, 5 * workloadMB + 128);
      tool("mkdaxfs", ["-d", rootfs, "-o", image, "-b", "-D", `${deltaMiB}M`]);
      debs = join(harness.dir, "debs");
      mkdirSync(debs);
    }, 900_000);

    afterAll(async () => {
      for (const chroot of chroots) chroot.close();
      await harness.cleanup();
    });

    it("installs local .debs with dpkg -i and apt-get in a chroot on a branch; commit; main shows them", async () => {
      const hello = buildDeb(debs, "daxfs-hello", [
        {
          path: "usr/bin/daxfs-hello",
          content: Buffer.from("#!/bin/sh\necho hello from daxfs\n"),
          mode: 0o755,
        },
        { path: "usr/share/daxfs-hello/README", content: Buffer.from("installed on a branch\n") },
      ]);
      const second = buildDeb(debs, "daxfs-second", [
        { path: "usr/share/daxfs-second/data", content: Buffer.from("second package\n") },
      ]);
      const { mount, chroot } = await branchChroot("apt");
      const [helloIn, secondIn] = copyIn(chroot, [hello, second]);

      chroot.sh(`dpkg -i ${helloIn}`);
      // apt offline: a local file, no package lists, nothing downloaded.
      chroot.sh(`apt-get install -y ${secondIn}`);
      const listed = chroot.sh("dpkg -l daxfs-hello daxfs-second").stdout;
      expect(listed).toMatch(/^ii {2}daxfs-hello +1\.0 /m);
      expect(listed).toMatch(/^ii {2}daxfs-second +1\.0 /m);
      expect(chroot.sh("daxfs-hello").stdout).toBe("hello from daxfs\n");
      // A second uid (allow_other; default_permissions: the kernel checks the modes).
      expect(chroot.sh("cat /usr/share/daxfs-hello/README", { uid: NOBODY }).stdout).toBe(
        "installed on a branch\n",
      );
      const denied = chroot.sh("touch /usr/share/daxfs-hello/x", { uid: NOBODY, check: false });
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toContain("Permission denied");
      chroot.close();

      tool("branch", ["commit", "-m", mount.mountpoint]);
      expect(await mount.stop()).toBe(0);

      const main = await harness.mount(image);
      const status = readFileSync(join(main.mountpoint, "var/lib/dpkg/status"), "utf8");
      expect(status).toContain("Package: daxfs-hello\nStatus: install ok installed\n");
      expect(status).toContain("Package: daxfs-second\nStatus: install ok installed\n");
      expect(readFileSync(join(main.mountpoint, "usr/share/daxfs-second/data"), "utf8")).toBe(
        "second package\n",
      );
      const mainChroot = new Chroot(main.mountpoint);
      chroots.push(mainChroot);
      // dpkg-query only reads: it runs on main, which is read-only.
      expect(mainChroot.sh("dpkg-query -l daxfs-hello").stdout).toMatch(/^ii {2}daxfs-hello +1\.0 /m);
      mainChroot.close();
      expect(await main.stop()).toBe(0);
      validateClean(image);
    }, 600_000);

    it(`commits an apt workload of ${workloadMB} MB within ~1.2x its log size`, async () => {
      const packages = 4;
      const files = [];
      for (let i = 0; i < packages; i++)
        files.push(
          buildDeb(
            debs,
            `daxfs-load${i}`,
            payloadFiles(`usr/share/daxfs-load${i}`, (workloadMB * MiB) / packages, 8),
          ),
        );
      const before = usage(image);
      const { mount, chroot } = await branchChroot("load");
      const paths = copyIn(chroot, files);
      chroot.sh(`apt-get install -y ${paths.join(" ")} && rm ${paths.join(" ")}`);
      expect(chroot.sh("dpkg -l 'daxfs-load*'").stdout.match(/^ii /gm)).toHaveLength(packages);
      chroot.close();
      const logSize = readImage(image, (view) => view.findBranch("load")?.logSize ?? 0);
      tool("branch", ["commit", "-m", mount.mountpoint]);
      expect(await mount.stop()).toBe(0);
      const after = usage(image);
      const committed = after.used - before.used;
      const ratio = committed / logSize;
      console.log(
        `apt workload ${workloadMB} MB: branch log ${logSize} bytes, delta region use ${before.used} -> ${after.used} (+${committed}, ${ratio.toFixed(3)}x the log)`,
      );
      expect(logSize).toBeGreaterThan(workloadMB * MiB);
      expect(ratio).toBeLessThanOrEqual(1.2);
      validateClean(image);
    }, 900_000);

    it("runs 10 agent cycles through daxfs-fuse and daxfs-branch (the path the 1,000 below skip)", async () => {
      const payload = (i: number) => new Uint8Array(100 * KiB).fill(0x40 + i);
      const mainCapacity = () => readImage(image, (opened) => opened.findBranch("main")?.logCapacity ?? 0);
      const before = usage(image);
      const capacityBefore = mainCapacity();
      for (let i = 0; i < 10; i++) {
        const mount = await harness.mount(image, ["--branch", `fuse-agent${i}`, "--parent", "main"]);
        writeFileSync(join(mount.mountpoint, `tmp/fuse-agent${i}`), payload(i));
        tool("branch", [i % 5 === 4 ? "commit" : "abort", "-m", mount.mountpoint]);
        expect(await mount.stop()).toBe(0);
      }
      const main = readImage(image, (opened) => {
        const view = opened.view("main");
        const tmp = view.lookup(1, "tmp");
        const names = view.readdir(tmp).map((entry) => entry.name);
        return { names, last: view.read(view.lookup(tmp, "fuse-agent9"), 0, 100 * KiB) };
      });
      expect(main.names.filter((name) => name.startsWith("fuse-agent")).sort()).toEqual([
        "fuse-agent4",
        "fuse-agent9",
      ]);
      expect(main.last).toEqual(payload(9));
      // The eight aborted logs and the two committed ones are free again: only main may grow.
      expect(usage(image).used - before.used).toBeLessThanOrEqual(mainCapacity() - capacityBefore + MiB);
      validateClean(image);
    }, 600_000);

    it("runs 1,000 agent cycles (create, write 100 KiB, abort or commit) on the rootfs image", () => {
      // In-process through @daxfs/core on a shared mapping of the image (the FUSE path is the one
      // above): the same calls daxfs-fuse makes, without a process per cycle.
      const mapping = mapFile(image, { writable: true });
      try {
        const source = new MemoryImage(mapping.bytes, true, image);
        const ctx = branchContext(source);
        const before = deltaUsage(ctx.image) as DeltaUsage;
        const mainBefore = ctx.image.findBranch("main");
        const payload = (i: number) => new Uint8Array(100 * KiB).fill(i & 0xff);
        for (let i = 0; i < 1000; i++) {
          const record = createBranch(ctx, `agent${i}`, "main");
          const lease = acquireLease(ctx, record.id);
          const view = DaxfsImage.open(source).view(record.name);
          const files = new BranchFiles(view, BranchWriter.forRecord(ctx, record));
          const ino = files.create(`/tmp/agent${i}`, 0o100644, { uid: 0, gid: 0 });
          files.write(ino, 0, payload(i));
          if (i % 10 === 9) commitBranch(ctx, record.id);
          else abortBranch(ctx, record.id);
          releaseLease(ctx, lease);
        }
        mapping.flush();
        const main = DaxfsImage.open(source).view("main");
        const tmp = main.lookup(1, "tmp");
        const names = main.readdir(tmp).map((entry) => entry.name);
        expect(names.filter((name) => name.startsWith("agent"))).toHaveLength(100);
        expect(main.read(main.lookup(tmp, "agent999"), 0, 100 * KiB)).toEqual(payload(999));
        expect(names).not.toContain("agent998");
        expect(validate(source).problems.map(formatProblem)).toEqual([]);
        const after = deltaUsage(DaxfsImage.open(source)) as DeltaUsage;
        const mainAfter = DaxfsImage.open(source).findBranch("main");
        // 100 commits of 100 KiB into main (10 MB): what stays used is main's log (its growth),
        // not 1,000 branch logs; 1 MiB for extents the free table could not keep.
        console.log(
          `1,000 agent cycles: delta region use ${before.used} -> ${after.used} bytes; main's log ${mainBefore?.logCapacity} -> ${mainAfter?.logCapacity} bytes`,
        );
        const mainGrowth = (mainAfter?.logCapacity ?? 0) - (mainBefore?.logCapacity ?? 0);
        expect(after.used - before.used).toBeLessThanOrEqual(mainGrowth + MiB);
      } finally {
        mapping.close();
      }
      validateClean(image);
    }, 600_000);
  },
);
