// The branch hierarchy (main at the root): id, name, state, generation and log use as a bar.
import { branchLabel, stateName } from "@daxfs/inspect";
import { Box } from "ink";
import { printable } from "../printable.js";
import type { BranchRow } from "../session.js";
import { bar, stateColor, type Theme, useTheme } from "../theme.js";
import { List, type Row, Title } from "./List.js";

export function branchText(row: BranchRow, theme: Theme, mountedAt: readonly string[] = []): string {
  const r = row.record;
  const indent = "  ".repeat(row.depth);
  const name = `${indent}${branchLabel(r)}`.padEnd(14);
  const mounted = mountedAt.length > 0 ? ` @${mountedAt.join(",")}` : "";
  return `${name} #${r.id} ${stateName(r.state).padEnd(9)} g${r.generation} ${bar(r.logSize, r.logCapacity, 8, theme)}${mounted}`;
}

export function BranchPane(props: {
  rows: readonly BranchRow[];
  selected: string | undefined;
  height: number;
  focused: boolean;
  staticImage: boolean;
  /** Why the table may have decoded short: a read error, or the validator's problem count. */
  problems?: string;
  /** Branch name -> where it is mounted. */
  mounts: ReadonlyMap<string, string[]>;
}) {
  const theme = useTheme();
  const rows: Row[] = props.rows.map((row) => ({
    key: String(row.record.id),
    text: branchText(row, theme, row.record.name === "" ? [] : props.mounts.get(row.record.name)),
    color: stateColor(row.record.state),
  }));
  return (
    <Box flexDirection="column" height={props.height} overflow="hidden">
      <Title text={`Branches (${props.rows.length})`} focused={props.focused} />
      <List
        rows={rows}
        selected={props.selected}
        height={props.height - 1}
        focused={props.focused}
        empty={
          props.staticImage
            ? "(static image: no branches)"
            : props.problems
              ? `(no branch decoded: ${printable(props.problems)})`
              : "(no branches yet)"
        }
      />
    </Box>
  );
}
