// The `?` overlay: the keymap table itself, so help and handling never disagree. A terminal too
// short for the whole table shows what fits and says how much is left out.
import { Box, Text } from "ink";
import { KEYMAP } from "../keymap.js";

export function HelpOverlay({ height }: { height: number }) {
  const room = height - 1;
  const shown = KEYMAP.length <= room ? KEYMAP : KEYMAP.slice(0, Math.max(0, room - 1));
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>Keys (any key closes this help)</Text>
      {shown.map((b) => (
        <Text key={b.command} wrap="truncate">
          {b.keys.join(" ").padEnd(20)} {b.help}
          {b.screens ? ` (${b.screens.join(", ")})` : ""}
        </Text>
      ))}
      {shown.length < KEYMAP.length ? (
        <Text dimColor>... {KEYMAP.length - shown.length} more (a taller terminal shows them all)</Text>
      ) : null}
    </Box>
  );
}
