import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests import workspace packages by name; point those names at the TypeScript sources so
// tests never run against a stale dist/ build. "@daxfs/<name>/testing" is a package's test-helper
// subpath (its package.json "exports" names the same source file).
const packagesDir = fileURLToPath(new URL("./packages/", import.meta.url));
const alias = readdirSync(packagesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => [
    { find: new RegExp(`^@daxfs/${d.name}$`), replacement: `${packagesDir}${d.name}/src/index.ts` },
    {
      find: new RegExp(`^@daxfs/${d.name}/testing$`),
      replacement: `${packagesDir}${d.name}/src/testing/index.ts`,
    },
  ]);

export default defineConfig({
  resolve: { alias },
  test: {
    include: [
      "format/**/*.test.ts",
      "packages/*/src/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: "forks",
  },
});
