// Plain lines of text, each cut at the pane's edge; a line's colour may depend on its text.
import { Text } from "ink";
import { printable } from "../printable.js";

export function Lines({
  lines,
  colorOf,
}: {
  lines: readonly string[];
  colorOf?: (line: string) => string | undefined;
}) {
  // Lines of one page have no identity but their place on it.
  const numbered = lines.map((text, place) => ({ place, text }));
  return (
    <>
      {numbered.map(({ place, text }) => (
        <Text key={place} wrap="truncate" color={colorOf?.(text)}>
          {printable(text)}
        </Text>
      ))}
    </>
  );
}
