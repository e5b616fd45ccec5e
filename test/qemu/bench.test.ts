// The bench's own failure detection: a kernel warning in the console, a hung guest and a failing
// scenario must each be reported, or a broken module could pass the kernel tests.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildImage, makeDir, makeFile } from "@daxfs/core";
import { describe, expect, it } from "vitest";
import { installedKernels, runGuest } from "./bench.js";

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
