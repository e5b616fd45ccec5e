// The validator's report: one row per problem; Enter jumps to the branch, log entry or inode the
// problem names.
import { formatProblem, type ValidationReport, validationStatsText } from "@daxfs/core";
import { Box, Text } from "ink";
import { count } from "../derive.js";
import { printable } from "../printable.js";
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
  const current = problems[Number(props.selected ?? 0)];
  // The selected problem in full below the list (rows are cut at the edge): 3 lines.
  const detailHeight = current ? 3 : 0;
  const listHeight = props.height - (props.openError ? 3 : 2) - detailHeight - (omitted > 0 ? 1 : 0);
  return (
    <Box flexDirection="column" height={props.height} overflow="hidden">
      <Title
        text={`Validation: ${valid ? "no errors found" : count(problems.length + omitted, "problem")}`}
        focused
      />
      {props.openError ? (
        <Text color={tint(theme, "red")} wrap="truncate">
          The image does not open: {printable(props.openError)}
        </Text>
      ) : null}
      <Text dimColor wrap="truncate">
        {validationStatsText(stats)}
      </Text>
      <Box flexDirection="column" height={listHeight} overflow="hidden">
        <List
          rows={problems.map((p, i) => ({
            key: String(i),
            text: formatProblem(p),
            color: p.kind === "corrupt" ? "red" : "yellow",
          }))}
          selected={props.selected}
          height={listHeight}
          focused
          empty="(no problems)"
        />
      </Box>
      {omitted > 0 ? <Text dimColor>... and {omitted} more</Text> : null}
      {current ? (
        <Box height={detailHeight} marginTop={0}>
          <Text wrap="wrap">
            {printable(
              `${current.structure} ${current.field} at 0x${current.offset.toString(16)}: ${current.message} (expected ${current.expected}, got ${current.actual}; ${current.kind})`,
            )}
          </Text>
        </Box>
      ) : null}
    </Box>
  );
}
