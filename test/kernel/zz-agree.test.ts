import { MemoryImage, validate } from "@daxfs/core";
import { it } from "vitest";
import { runGuest } from "../qemu/bench.js";
import { corruptImages, fuzzedImages } from "./fixture.js";

it("agreement", async () => {
  const fuzzed = [...fuzzedImages(300, 555), ...corruptImages()];
  const run = await runGuest({
    kernel: "6.12",
    images: fuzzed.map((f) => ({ name: f.name, bytes: f.bytes })),
    scenarios: [
      {
        name: "v",
        script: `for f in ${fuzzed.map((f) => f.name).join(" ")}; do if daxmount $f /mnt/$f validate 2>/dev/null; then echo "OK $f"; umount /mnt/$f; else echo "NO $f|$(last_kmsg)"; fi; done`,
      },
    ],
    timeoutSec: 600,
  });
  const lines = run.scenarios.get("v")!.lines;
  for (const f of fuzzed) {
    const report = validate(new MemoryImage(f.bytes, false));
    const ts = report.problems.length === 0;
    const k = lines.find((l) => l.startsWith(`OK ${f.name}`) || l.startsWith(`NO ${f.name}|`))!;
    const kernelOk = k.startsWith("OK");
    if (ts !== kernelOk)
      console.log(
        `${f.name}: ts=${ts} kernel=${kernelOk} | ${k} | ${report.problems
          .slice(0, 2)
          .map((p) => p.message)
          .join(" ; ")}`,
      );
  }
}, 900_000);
