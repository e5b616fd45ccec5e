// A windowed list: only the rows that fit are rendered, the selected one kept in view.
import { Box, Text } from "ink";
import { printable } from "../printable.js";
import { tint, useTheme } from "../theme.js";

export interface Row {
  key: string;
  text: string;
  color?: string;
  dim?: boolean;
}

export interface ListProps {
  rows: readonly Row[];
  selected: string | undefined;
  height: number;
  focused: boolean;
  empty?: string;
}

/** The first row shown so that `index` is visible in `height` rows (kept near the middle). */
export function windowStart(index: number, count: number, height: number): number {
  if (count <= height || index < 0) return 0;
  return Math.max(0, Math.min(count - height, index - Math.floor(height / 2)));
}

export function List({ rows, selected, height, focused, empty }: ListProps) {
  const theme = useTheme();
  if (rows.length === 0) return <Text dimColor>{empty ?? "(empty)"}</Text>;
  const index = Math.max(
    0,
    rows.findIndex((r) => r.key === selected),
  );
  const start = windowStart(index, rows.length, height);
  return (
    <Box flexDirection="column">
      {rows.slice(start, start + height).map((row, i) => {
        const isSelected = start + i === index;
        return (
          <Text
            key={row.key}
            wrap="truncate"
            color={isSelected && focused ? undefined : row.color && tint(theme, row.color)}
            inverse={isSelected && focused && theme.color}
            dimColor={row.dim}
          >
            {isSelected ? (focused ? ">" : "*") : " "}
            {printable(row.text)}
          </Text>
        );
      })}
    </Box>
  );
}

/** A pane's title line, highlighted when it has the focus. */
export function Title({ text, focused }: { text: string; focused: boolean }) {
  const theme = useTheme();
  return (
    <Text bold={focused} color={focused ? tint(theme, "cyan") : undefined} wrap="truncate">
      {printable(focused && !theme.color ? `[${text}]` : text)}
    </Text>
  );
}
