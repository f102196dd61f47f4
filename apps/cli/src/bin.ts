#!/usr/bin/env node
import { main } from "./main.js";

// `keyward keys | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.stdout.destroy();
});

// The only place the process's exit code is set.
process.exitCode = await main(process.argv.slice(2));
