// The selected branch's own delta log as a timeline (log order is time order), filtered by type or
// inode; Enter jumps to the entry's file.
import type { DeltaEntry } from "@daxfs/core";
import { describeEntry } from "@daxfs/inspect";
import { Box, Text } from "ink";
import { printable } from "../printable.js";
import { tint, useTheme } from "../theme.js";
import { List, Title } from "./List.js";

export function LogScreen(props: {
  branch: string;
  entries: readonly DeltaEntry[];
  total: number;
  selected: string | undefined;
  height: number;
  filter: string;
  error?: string;
  /** Why a corrupt log's decoding stopped after `entries`. */
  stoppedBy?: string;
}) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" height={props.height}>
      <Title
        text={`Log of ${props.branch}: ${props.entries.length} of ${props.total} entries${props.filter}`}
        focused
      />
      <Text dimColor wrap="truncate">{`${"OFFSET".padStart(10)}  TYPE     DETAILS`}</Text>
      {props.error ? (
        <Text wrap="wrap">{printable(props.error)}</Text>
      ) : (
        <List
          rows={props.entries.map((e) => ({ key: String(e.offset), text: describeEntry(e) }))}
          selected={props.selected}
          height={props.height - (props.stoppedBy ? 3 : 2)}
          focused
          empty="(no entries)"
        />
      )}
      {props.stoppedBy ? (
        <Text color={tint(theme, "red")} wrap="truncate">
          log stops here: {printable(props.stoppedBy)}
        </Text>
      ) : null}
    </Box>
  );
}
