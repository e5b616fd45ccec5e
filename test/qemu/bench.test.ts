// The bench's own failure detection: a kernel warning in the console, a hung guest and a failing
// scenario must each be reported, or a broken module could pass the kernel tests; and several guests
// on one pack (run.sh --guests) share the memory and the sync area as test/qemu/README.md says.
import { closeSync, existsSync, openSync, readFileSync, realpathSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { buildImage, makeDir, makeFile } from "@daxfs/core";
import { describe, expect, it } from "vitest";
import { installedKernels, runGuest, syncWordOffset } from "./bench.js";

const kernels = installedKernels();
const kernel = kernels.at(-1);
const repoRoot = realpathSync(fileURLToPath(new URL("../..", import.meta.url)));

describe.skipIf(!kernel)("QEMU bench", () => {
  it("returns each scenario's exit status and output, in order", async () => {
    const run = await runGuest({
      kernel: kernel as string,
      images: [{ name: "blob", bytes: new Uint8Array([1, 2, 3, 4]) }],
      scenarios: [
        { name: "ok", script: 'echo "size $(img_size blob)"; echo "kernel $(uname -r)"' },
        { name: "fails", script: "echo before; exit 3" },
        { name: "nohost", script: 'host_run true; echo "host_run $?"' },
      ],
      timeoutSec: 120,
    });
    expect(run.scenarios.get("ok")).toMatchObject({ exitCode: 0 });
    expect(run.scenarios.get("ok")?.lines).toContain("size 4");
    expect(run.scenarios.get("fails")).toMatchObject({ exitCode: 3, lines: ["before"] });
    // Without --host-root there is no host root to run in: said, and a failure.
    expect(run.scenarios.get("nohost")?.lines).toEqual([
      "host_run: the guest was booted without --host-root",
      "host_run 125",
    ]);
  }, 180_000);

  it("fails the run when the kernel logs a WARNING", async () => {
    await expect(
      runGuest({
        kernel: kernel as string,
        images: [],
        scenarios: [
          {
            name: "warn",
            script: 'echo "<4>WARNING: CPU: 0 PID: 1 at pretend.c:1 bench self-test" > /dev/kmsg',
          },
        ],
        timeoutSec: 120,
      }),
    ).rejects.toThrow(/kernel reported a problem[\s\S]*WARNING: CPU: 0 PID: 1 at pretend/);
  }, 180_000);

  it("boots two guests on one pack: shared memory, barriers, flags the host sees, a guest the host kills", async () => {
    const flag = { seen: 0 };
    const run = await runGuest({
      kernel: kernel as string,
      guests: 2,
      images: [{ name: "blob", bytes: new Uint8Array(4096) }],
      scenarios: [
        // Guest 0 writes a byte of the image (busybox devmem maps /dev/mem); guest 1 reads it after the barrier.
        {
          name: "same",
          guest: 0,
          script: `devmem $(img_phys blob) 8 0x5A; guest_barrier; guest_flag set 64 7; echo "guest $GUEST_ID of $GUESTS"`,
        },
        {
          name: "same",
          guest: 1,
          script: `guest_barrier; echo "read $(devmem $(img_phys blob) 8)"`,
        },
        { name: "doomed", guest: 1, script: "guest_flag wait 65 1; sleep 600" },
      ],
      timeoutSec: 120,
      whileRunning: async (pack, _offsets, control) => {
        const word = syncWordOffset(control, 64);
        // The pack appears when run.sh has built it; the guests start later.
        const value = () => {
          const bytes = existsSync(pack) ? readFileSync(pack) : Buffer.alloc(0);
          return bytes.length >= word + 4 ? bytes.readUInt32LE(word) : 0;
        };
        while (value() !== 7) await sleep(100);
        flag.seen = 7;
        const fd = openSync(pack, "r+");
        writeSync(fd, new Uint8Array([1, 0, 0, 0]), 0, 4, syncWordOffset(control, 65));
        closeSync(fd);
        await sleep(2000);
        control.kill(1);
      },
    });
    expect(run.guests[0]?.scenarios.get("same")).toMatchObject({ exitCode: 0, lines: ["guest 0 of 2"] });
    expect(run.guests[0]?.killed).toBe(false);
    expect(run.guests[1]?.scenarios.get("same")?.lines).toEqual(["read 0x5A"]);
    expect(run.guests[1]?.killed).toBe(true);
    expect(flag.seen).toBe(7);
  }, 600_000);

  it("kills a hung guest at the timeout and fails with the console tail", async () => {
    await expect(
      runGuest({
        kernel: kernel as string,
        images: [],
        scenarios: [{ name: "hang", script: "sleep 600" }],
        timeoutSec: 25,
      }),
    ).rejects.toThrow(/timed out after 25s[\s\S]*console tail/);
  }, 180_000);
});

// --host-root: the host's root over virtio-9p, chrooted into by host_run, on both kernels (6.1 loads
// virtio-pci as a module, 6.12 has it built in). Needs the repo built (dist/): host_run runs the CLIs from it.
describe.each(kernels)("QEMU bench --host-root, Linux %s", (version) => {
  const root = makeDir();
  root.children.set("hello", makeFile("hello from the pack\n"));
  const image = buildImage(root);

  it("runs the host's node and our CLIs chrooted, with mounts and scratch shared, and reports their failures", async () => {
    const run = await runGuest({
      kernel: version,
      hostRoot: true,
      images: [{ name: "tiny", bytes: image }],
      scenarios: [
        {
          name: "node",
          script: `host_run node -e 'console.log("node", process.version, process.cwd())'`,
        },
        {
          // daxfs-inspect reads the image in the NVDIMM through /dev/mem; its output file in the
          // scratch directory is read back outside the chroot.
          name: "inspect",
          script: `host_run node packages/inspect/dist/cli.js cat /hello -p $(img_phys tiny) -s $(img_size tiny) > "$SCRATCH/out"
cat "$SCRATCH/out"`,
        },
        {
          // A daxfs mount made outside is seen inside at the same path, and the other way round.
          name: "mounts",
          script: `daxmount tiny /mnt/outside
host_run sh -c 'cat /mnt/outside/hello; mkdir /mnt/inside && mount -t tmpfs none /mnt/inside && echo made > /mnt/inside/f'
cat /mnt/inside/f
umount /mnt/inside /mnt/outside`,
        },
        { name: "node-fails", script: `host_run node -e 'console.error("bad"); process.exit(5)'` },
        { name: "missing", script: "host_run no-such-program" },
      ],
      timeoutSec: 240,
    });
    expect(run.scenarios.get("node")).toMatchObject({ exitCode: 0 });
    // The same node binary as this one (the host's), started in the repository.
    expect(run.scenarios.get("node")?.lines).toEqual([`node ${process.version} ${repoRoot}`]);
    expect(run.scenarios.get("inspect")).toMatchObject({ exitCode: 0, lines: ["hello from the pack"] });
    expect(run.scenarios.get("mounts")).toMatchObject({
      exitCode: 0,
      lines: ["hello from the pack", "made"],
    });
    expect(run.scenarios.get("node-fails")).toMatchObject({ exitCode: 5, lines: ["bad"] });
    expect(run.scenarios.get("missing")?.exitCode).not.toBe(0);
  }, 300_000);
});
