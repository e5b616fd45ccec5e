// The validator's report: one row per problem; Enter jumps to the branch, log entry or inode the
// problem names.
import { formatProblem, type ValidationReport } from "@daxfs/core";
import { Box, Text } from "ink";
import { tint, useTheme } from "../theme.js";
import { List, Title } from "./List.js";

export function ValidateScreen(props: {
  report: ValidationReport;
  openError: string | null;
  selected: string | undefined;
  height: number;
}) {
  const theme = useTheme();
  const { problems, omitted, stats } = props.report;
  const valid = problems.length === 0 && omitted === 0;
  return (
    <Box flexDirection="column" height={props.height}>
      <Title
        text={`Validation: ${valid ? "no errors found" : `${problems.length + omitted} problems`}`}
        focused
      />
      {props.openError ? (
        <Text color={tint(theme, "red")} wrap="truncate">
          The image does not open: {props.openError}
        </Text>
      ) : null}
      <Text dimColor wrap="truncate">
        checked {stats.inodes} inodes, {stats.directoryEntries} directory entries, {stats.branches} branches,{" "}
        {stats.deltaEntries} log entries
      </Text>
      <List
        rows={problems.map((p, i) => ({
          key: String(i),
          text: formatProblem(p),
          color: p.kind === "corrupt" ? "red" : "yellow",
        }))}
        selected={props.selected}
        height={props.height - (props.openError ? 4 : 3)}
        focused
        empty="(no problems)"
      />
      {omitted > 0 ? <Text dimColor>... and {omitted} more</Text> : null}
    </Box>
  );
}
