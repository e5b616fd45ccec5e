// A branch against its parent (or another branch): the changed paths, and for a changed text file
// a line diff of its contents.
import type { DiffChange } from "@daxfs/inspect";
import { Box, Text } from "ink";
import { printable } from "../printable.js";
import { tint, useTheme } from "../theme.js";
import { Lines } from "./Lines.js";
import { List, Title } from "./List.js";

const MARK = { added: "+", removed: "-", modified: "M", renamed: "R" } as const;
const COLOR = { added: "green", removed: "red", modified: "yellow", renamed: "cyan" } as const;

export function DiffScreen(props: {
  title: string;
  changes: readonly DiffChange[];
  selected: string | undefined;
  content: readonly string[];
  height: number;
  error?: string;
}) {
  const theme = useTheme();
  const listHeight = Math.max(3, Math.floor((props.height - 2) / 2));
  return (
    <Box flexDirection="column" height={props.height} overflow="hidden">
      <Title text={props.title} focused />
      {props.error ? (
        <Text wrap="wrap">{printable(props.error)}</Text>
      ) : (
        <>
          <List
            rows={props.changes.map((c) => ({
              key: c.path,
              text: `${MARK[c.change]} ${c.path}${c.details ? `  (${c.details})` : ""}`,
              color: COLOR[c.change],
            }))}
            selected={props.selected}
            height={listHeight}
            focused
            empty="(no changes)"
          />
          <Text dimColor>{"-".repeat(20)}</Text>
          <Lines
            lines={props.content.slice(0, props.height - listHeight - 2)}
            colorOf={(line) =>
              line.startsWith("+")
                ? tint(theme, "green")
                : line.startsWith("-")
                  ? tint(theme, "red")
                  : undefined
            }
          />
        </>
      )}
    </Box>
  );
}
