// The preview: one page of the selected file (text with line numbers or hex), a symlink's target
// or a directory's summary.
import { Box, Text } from "ink";
import { Lines } from "./Lines.js";
import { Title } from "./List.js";

export function PreviewPane(props: {
  title: string;
  lines: readonly string[];
  height: number;
  focused: boolean;
  more: boolean;
}) {
  return (
    <Box flexDirection="column" height={props.height} overflow="hidden">
      <Title text={props.title} focused={props.focused} />
      <Lines lines={props.lines.slice(0, props.height - 2)} />
      {props.more ? <Text dimColor>-- more: space / page down --</Text> : null}
    </Box>
  );
}
