// The browse screen's layout: the branch tree across the top (none for a static image), the file
// tree on the left and the preview on the right below it.
import { Box } from "ink";
import type { ComponentProps } from "react";
import { BranchPane } from "./BranchPane.js";
import { FilePane } from "./FilePane.js";
import { PreviewPane } from "./PreviewPane.js";

export function BrowseScreen(props: {
  height: number;
  branches?: ComponentProps<typeof BranchPane>;
  files: ComponentProps<typeof FilePane>;
  preview: ComponentProps<typeof PreviewPane>;
}) {
  return (
    <Box flexDirection="column" height={props.height} overflow="hidden">
      {props.branches ? <BranchPane {...props.branches} /> : null}
      <Box flexDirection="row" height={props.files.height}>
        <Box width={props.files.width} flexShrink={0}>
          <FilePane {...props.files} />
        </Box>
        <Box flexGrow={1} marginLeft={1}>
          <PreviewPane {...props.preview} />
        </Box>
      </Box>
    </Box>
  );
}
