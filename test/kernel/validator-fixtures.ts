// Regression images for the agreement of the two validators (fixtures/validators/, README there),
// gunzipped once per test file. Image names use "_" (the guest's pack names are [A-Za-z0-9_]+).
import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { MemoryImage, type Problem, validate } from "@daxfs/core";

const DIR = new URL("./fixtures/validators/", import.meta.url);

export interface ValidatorFixture {
  name: string;
  bytes: Uint8Array;
}

export function validatorFixtures(): ValidatorFixture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith(".img.gz"))
    .sort()
    .map((f) => ({
      name: f.replace(/\.img\.gz$/, "").replace(/-/g, "_"),
      bytes: new Uint8Array(gunzipSync(readFileSync(new URL(f, DIR)))),
    }));
}

/** The fixtures both validators must refuse (all but the public tools' image), with the TS problems. */
export function refusedCases(fixtures: ValidatorFixture[]): (ValidatorFixture & { problems: Problem[] })[] {
  return fixtures
    .filter((f) => !f.name.startsWith("public_"))
    .map((f) => ({ ...f, problems: validate(new MemoryImage(f.bytes, false)).problems }));
}
