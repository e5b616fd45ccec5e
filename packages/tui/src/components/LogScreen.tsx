// The selected branch's own delta log as a timeline (log order is time order), filtered by type or
// inode; Enter jumps to the entry's file.
import type { DeltaEntry } from "@daxfs/core";
import { describeEntry, timeText } from "@daxfs/inspect";
import { Box, Text } from "ink";
import { count } from "../derive.js";
import { printable } from "../printable.js";
import { tint, useTheme } from "../theme.js";
import { List, Title } from "./List.js";

/** An entry's timestamp (ns since the epoch, NOTES.md item 7) as UTC time, or "no time" for 0. */
export function entryTime(timestamp: bigint): string {
  return timestamp === 0n ? "no time" : timeText(timestamp);
}

const DETAIL_HEIGHT = 3;

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
  const current = props.entries.find((e) => String(e.offset) === props.selected);
  // The selected entry in full below the list: its time and size, then its details wrapped.
  const listHeight = props.height - 2 - (props.stoppedBy ? 1 : 0) - (current ? DETAIL_HEIGHT : 0);
  return (
    <Box flexDirection="column" height={props.height} overflow="hidden">
      <Title
        text={`Log of ${props.branch}: ${props.entries.length} of ${count(props.total, "entry", "entries")}${props.filter}`}
        focused
      />
      <Text dimColor wrap="truncate">{`${"OFFSET".padStart(10)}  TYPE     DETAILS`}</Text>
      {props.error ? (
        <Text wrap="wrap">{printable(props.error)}</Text>
      ) : (
        <Box flexDirection="column" height={listHeight} overflow="hidden">
          <List
            rows={props.entries.map((e) => ({ key: String(e.offset), text: describeEntry(e) }))}
            selected={props.selected}
            height={listHeight}
            focused
            empty="(no entries)"
          />
        </Box>
      )}
      {current && !props.error ? (
        <Box flexDirection="column" height={DETAIL_HEIGHT}>
          <Text dimColor wrap="truncate">
            {`entry at 0x${current.offset.toString(16)}, ${current.totalSize} bytes, ${entryTime(current.timestamp)}`}
          </Text>
          <Text wrap="wrap">{printable(describeEntry(current).trim())}</Text>
        </Box>
      ) : null}
      {props.stoppedBy ? (
        <Text color={tint(theme, "red")} wrap="truncate">
          log stops here: {printable(props.stoppedBy)}
        </Text>
      ) : null}
    </Box>
  );
}
