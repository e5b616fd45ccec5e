// The `?` overlay: the keymap table itself, so help and handling never disagree.
import { Box, Text } from "ink";
import { KEYMAP } from "../keymap.js";

export function HelpOverlay({ height }: { height: number }) {
  return (
    <Box flexDirection="column" height={height}>
      <Text bold>Keys (any key closes this help)</Text>
      {KEYMAP.map((b) => (
        <Text key={b.command} wrap="truncate">
          {b.keys.join(" ").padEnd(20)} {b.help}
          {b.screens ? ` (${b.screens.join(", ")})` : ""}
        </Text>
      ))}
    </Box>
  );
}
