// The selected branch's files: a lazily expanded tree (stat read for the visible rows only) with
// marks for what the branch changed against its parent.
import type { DiffChange } from "@daxfs/inspect";
import { Box, Text } from "ink";
import { type FileRow, fileText, isSymlink } from "../derive.js";
import { printable } from "../printable.js";
import { load, type Session } from "../session.js";
import { List, type Row, Title, windowStart } from "./List.js";

export function FilePane(props: {
  session: Session;
  branch: string;
  rows: readonly FileRow[];
  /** Change marks by inode. */
  marks: ReadonlyMap<number, DiffChange["change"]>;
  selected: string | undefined;
  height: number;
  width: number;
  focused: boolean;
  search: string;
  searchInput: string | null;
  error?: string;
}) {
  const { session, branch, rows, height } = props;
  const listHeight = height - 2;
  const index = Math.max(
    0,
    rows.findIndex((r) => r.path === props.selected),
  );
  const start = windowStart(index, rows.length, listHeight);
  const visible: Row[] = rows.slice(start, start + listHeight).map((row) => {
    // A deleted name is read from the parent that still has it.
    const from = row.removedFrom ?? branch;
    const stat = load(() => session.stat(from, row.ino));
    const target = isSymlink(row.mode) ? load(() => session.readlink(from, row.ino)) : undefined;
    const mark = row.removedFrom !== undefined ? "removed" : props.marks.get(row.ino);
    return {
      key: row.path,
      text: fileText(
        row,
        stat.ok ? stat.value : undefined,
        mark,
        props.width - 1,
        target?.ok ? target.value : undefined,
      ),
      color: mark === "removed" ? "red" : mark ? "yellow" : undefined,
      dim: mark === "removed",
    };
  });
  const title = props.search
    ? `Files of ${branch} matching "${props.search}" (${rows.length})`
    : `Files of ${branch}`;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Title text={title} focused={props.focused} />
      {props.error ? (
        <Text wrap="wrap">{printable(props.error)}</Text>
      ) : (
        <List
          rows={visible}
          selected={props.selected}
          height={listHeight}
          focused={props.focused}
          empty="(empty directory)"
        />
      )}
      {props.searchInput !== null ? <Text>/{printable(props.searchInput)}_</Text> : null}
    </Box>
  );
}
