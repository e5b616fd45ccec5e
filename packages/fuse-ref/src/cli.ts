#!/usr/bin/env node
import { isDaxfsError } from "@daxfs/core";
// daxfs-fuse IMAGE MNT [--branch NAME [--parent NAME]] [--validate] [-f]
// Exit codes: 0 unmounted cleanly; 1 the mount could not be made (one line on stderr says why).
import { Command } from "commander";
import { mountDaxfs } from "./mount.js";

const program = new Command("daxfs-fuse")
  .description("Serve a DAXFS image over FUSE: main read-only, or a writable branch")
  .argument("<image>", "DAXFS image file (branching images can be written)")
  .argument("<mountpoint>", "directory to mount on")
  .option("-b, --branch <name>", "branch to serve (default main, read-only)")
  .option("-p, --parent <name>", "create --branch as a new child of this branch")
  .option("--validate", "check the whole image before mounting")
  .option("-f, --foreground", "stay in the foreground (always the case; accepted for compatibility)")
  .action(
    async (
      image: string,
      mountpoint: string,
      options: { branch?: string; parent?: string; validate?: boolean },
    ) => {
      if (options.parent !== undefined && options.branch === undefined) {
        process.stderr.write("daxfs-fuse: --parent needs --branch\n");
        process.exit(1);
      }
      let mount: Awaited<ReturnType<typeof mountDaxfs>>;
      try {
        mount = await mountDaxfs({
          image,
          mountpoint,
          branch: options.branch,
          parent: options.parent,
          validate: options.validate,
        });
      } catch (error) {
        const message = isDaxfsError(error) || error instanceof Error ? error.message : String(error);
        process.stderr.write(`daxfs-fuse: ${message}\n`);
        process.exit(1);
      }
      const info = mount.fs.info();
      process.stdout.write(
        `daxfs-fuse: ${info.image} branch ${info.branch} mounted on ${mountpoint} (${info.writable ? "writable" : "read-only"}); control ${mount.socketPath}\n`,
      );
      const stop = () => {
        mount.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      await mount.gone;
      process.exit(0);
    },
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`daxfs-fuse: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
