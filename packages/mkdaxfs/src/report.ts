// What mkdaxfs prints: the public tool's summary lines and region map (SPEC 2.1), a --json summary,
// and a progress bar drawn only on a terminal.
import { type ImagePlan, type PlannedInode, planContentsText, planInodeTypes } from "@daxfs/core";
import type { BuildResult, Target } from "./mkdaxfs.js";

const hex = (n: number) => `0x${n.toString(16)}`;

function layoutTitle(plan: ImagePlan): string {
  return plan.mode === "static"
    ? "static"
    : plan.mode === "branching"
      ? "with branching"
      : "split mode with pcache";
}

/** The public summary and region map, one string per line. */
export function summaryLines(result: BuildResult): string[] {
  const { plan, target, backingPath } = result;
  const lines = [
    // Inodes by type and directory entries, the terms and numbers daxfs-inspect info and validate
    // use (docs/cli.md "Counts"), rather than the public tool's "Found N files", which counts names.
    `Found ${planContentsText(plan)}`,
    `Base image size: ${plan.baseSize} bytes`,
  ];
  if (plan.mode !== "static") lines.push(`Delta region size: ${plan.deltaRegionSize} bytes`);
  if (plan.mode === "split" && plan.pcache) {
    lines.push(`Split mode: file data in ${backingPath}`);
    lines.push(`Backing file size: ${plan.backingSize} bytes`);
    lines.push(`Page cache: ${plan.pcache.slotCount} slots (${plan.pcache.size} bytes)`);
    lines.push(`Pre-warmed ${plan.pcache.prewarmedPages} of ${plan.pcache.slotCount} cache slots`);
    lines.push(`Total DAX size: ${plan.totalSize} bytes`);
  } else {
    lines.push(`Total image size: ${plan.totalSize} bytes`);
  }
  lines.push(`Mode: ${plan.mode === "static" ? "static (read-only)" : "branching"}`);
  lines.push(`Image layout (${layoutTitle(plan)}):`);
  for (const region of plan.regions) {
    const label = `${region.name.replace(/^./, (c) => c.toUpperCase())}:`.padEnd(15);
    const extra =
      region.name === "branch table"
        ? " (256 entries)"
        : region.name === "delta region" && plan.mainLog
          ? " (main log 1 MiB)"
          : "";
    lines.push(`  ${label}${hex(region.offset)} - ${hex(region.offset + region.size)}${extra}`);
  }
  if (backingPath) lines.push(`  Backing file:  ${backingPath} (${plan.backingSize} bytes)`);
  lines.push(targetLine(target, result));
  return lines;
}

function targetLine(target: Target, result: BuildResult): string {
  if (target.kind === "file") return `Wrote ${target.path} (${result.allocation} bytes)`;
  if (target.kind === "heap") return `Done. Mounted daxfs on ${target.mountpoint}`;
  return `Wrote physical memory at 0x${target.address.toString(16)} (${result.allocation} bytes)`;
}

/** --json: everything a script needs, with sizes in bytes. */
export function jsonSummary(result: BuildResult, warnings: string[]): Record<string, unknown> {
  const { plan, target } = result;
  const types = planInodeTypes(plan);
  return {
    mode: plan.mode,
    target: target.kind === "phys" ? { kind: "phys", address: `0x${target.address.toString(16)}` } : target,
    backing: result.backingPath ? { path: result.backingPath, bytes: plan.backingSize } : null,
    inodes: plan.inodes.length,
    names: plan.nameCount,
    files: types.files,
    directories: types.directories,
    symlinks: types.symlinks,
    fileBytes: plan.inodes.reduce((sum, inode) => sum + (inode.node.kind === "file" ? inode.size : 0), 0),
    bytes: plan.totalSize,
    allocation: result.allocation,
    regions: [
      ...plan.regions,
      ...(plan.mainLog
        ? [{ name: "main log", offset: plan.mainLog.offset, size: plan.mainLog.capacity }]
        : []),
    ],
    warnings,
  };
}

/** A one-line progress bar on a terminal; nothing at all elsewhere. */
export class ProgressBar {
  private total = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  static forStream(stream: NodeJS.WriteStream, enabled: boolean): ProgressBar | null {
    return enabled && stream.isTTY ? new ProgressBar(stream) : null;
  }

  start(plan: ImagePlan): void {
    this.total = plan.inodes.reduce((sum, inode) => sum + (inode.node.kind === "file" ? inode.size : 0), 0);
  }

  update(_inode: PlannedInode, bytesCopied: number): void {
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = this.total === 0 ? 1 : bytesCopied / this.total;
    const width = 30;
    const filled = Math.round(fraction * width);
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    this.stream.write(
      `\rCopying [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${mib(bytesCopied)}/${mib(this.total)} MiB`,
    );
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
  }
}
