// The bench's own failure detection: a kernel warning in the console, a hung guest and a failing
// scenario must each be reported, or a broken module could pass the kernel tests.
import { describe, expect, it } from "vitest";
import { installedKernels, runGuest } from "./bench.js";

const kernel = installedKernels().at(-1);

describe.skipIf(!kernel)("QEMU bench", () => {
  it("returns each scenario's exit status and output, in order", async () => {
    const run = await runGuest({
      kernel: kernel as string,
      images: [{ name: "blob", bytes: new Uint8Array([1, 2, 3, 4]) }],
      scenarios: [
        { name: "ok", script: 'echo "size $(img_size blob)"; echo "kernel $(uname -r)"' },
        { name: "fails", script: "echo before; exit 3" },
      ],
      timeoutSec: 120,
    });
    expect(run.scenarios.get("ok")).toMatchObject({ exitCode: 0 });
    expect(run.scenarios.get("ok")?.lines).toContain("size 4");
    expect(run.scenarios.get("fails")).toMatchObject({ exitCode: 3, lines: ["before"] });
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
