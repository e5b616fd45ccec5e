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
  /** The text pane has the cursor (Tab): the keys scroll it from line `scroll`. */
  textFocused: boolean;
  scroll: number;
  height: number;
  error?: string;
}) {
  const theme = useTheme();
  const listHeight = Math.max(3, Math.floor((props.height - 2) / 2));
  const textHeight = Math.max(0, props.height - listHeight - 2);
  const shown = props.content.slice(props.scroll, props.scroll + textHeight);
  const where =
    props.content.length > textHeight || props.textFocused
      ? ` lines ${props.content.length === 0 ? 0 : props.scroll + 1}-${props.scroll + shown.length} of ${props.content.length}${props.textFocused ? " (Tab: back to the list)" : " (Tab: scroll)"}`
      : "";
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
            focused={!props.textFocused}
            empty="(no changes)"
          />
          <Text dimColor={!props.textFocused} wrap="truncate">
            {"-".repeat(20)}
            {where}
          </Text>
          <Lines
            lines={shown}
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
