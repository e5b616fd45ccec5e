// The bottom line: the screens, the most used keys, and a message (errors, ESTALE).
import { Text } from "ink";
import { printable } from "../printable.js";
import type { Screen } from "../state.js";
import { tint, useTheme } from "../theme.js";

const SCREENS: [Screen, string][] = [
  ["browse", "1 browse"],
  ["log", "2 log"],
  ["diff", "3 diff"],
  ["validate", "4 validate"],
];

export function StatusBar({ screen, message }: { screen: Screen; message: string }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate">
      {SCREENS.map(([name, label]) => (
        <Text key={name} bold={name === screen} inverse={name === screen && theme.color}>
          {name === screen && !theme.color ? `[${label}]` : ` ${label} `}
        </Text>
      ))}
      <Text> ? help q quit </Text>
      <Text color={tint(theme, "yellow")}>{printable(message)}</Text>
    </Text>
  );
}
