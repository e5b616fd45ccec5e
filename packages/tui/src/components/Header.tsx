// The top line: the target, the commit sequence, the coordination lock and the delta region's use.
import { humanSize, percent } from "@daxfs/inspect";
import { Text } from "ink";
import { printable } from "../printable.js";
import type { ImageSummary } from "../session.js";
import { bar, tint, useTheme } from "../theme.js";

export function Header({ summary, openError }: { summary: ImageSummary | null; openError: string | null }) {
  const theme = useTheme();
  if (!summary)
    return (
      <Text color={tint(theme, "red")} wrap="truncate">
        daxfs-tui: cannot open the image: {printable(openError ?? "")}
      </Text>
    );
  if (summary.mode === "static")
    return (
      <Text wrap="truncate">
        <Text bold>{printable(summary.name)}</Text> static, {summary.inodeCount} inodes
      </Text>
    );
  const delta = `delta ${bar(summary.deltaUsed, summary.deltaSize, 10, theme)} ${percent(summary.deltaUsed, summary.deltaSize)} of ${humanSize(summary.deltaSize)}`;
  return (
    <Text wrap="truncate">
      <Text bold>{printable(summary.name)}</Text> {summary.inodeCount} inodes, seq{" "}
      {String(summary.commitSequence)}, lock{" "}
      <Text color={summary.lockHeld ? tint(theme, "yellow") : undefined}>
        {summary.lockHeld ? "held" : "free"}
      </Text>
      , {delta}
    </Text>
  );
}
