// The selected branch's own delta log as a timeline (log order is time order), filtered by type or
// inode; Enter jumps to the entry's file.
import type { DeltaEntry } from "@daxfs/core";
import { describeEntry } from "@daxfs/inspect";
import { Box, Text } from "ink";
import { List, Title } from "./List.js";

export function LogScreen(props: {
  branch: string;
  entries: readonly DeltaEntry[];
  total: number;
  selected: string | undefined;
  height: number;
  filter: string;
  error?: string;
}) {
  return (
    <Box flexDirection="column" height={props.height}>
      <Title
        text={`Log of ${props.branch}: ${props.entries.length} of ${props.total} entries${props.filter}`}
        focused
      />
      <Text dimColor wrap="truncate">{`${"OFFSET".padStart(10)}  TYPE     DETAILS`}</Text>
      {props.error ? (
        <Text wrap="wrap">{props.error}</Text>
      ) : (
        <List
          rows={props.entries.map((e) => ({ key: String(e.offset), text: describeEntry(e) }))}
          selected={props.selected}
          height={props.height - 2}
          focused
          empty="(no entries)"
        />
      )}
    </Box>
  );
}
