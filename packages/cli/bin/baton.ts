#!/usr/bin/env node
// The `baton` command. Node 24 runs this TypeScript directly (type stripping).
import { main } from '../src/cli.ts';

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signals++;
  if (signals === 1) {
    controller.abort(new Error(`received ${signal}`));
    return;
  }
  // A second signal: stop waiting. The command's watchdog sees baton go and stops it.
  process.stderr.write(`baton: received ${signal} again, exiting without waiting\n`);
  process.exit(130);
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
// Started with an IPC channel (as `baton demo` starts its candidates): the parent going away
// — even by SIGKILL — closes the channel, and baton stops as on SIGTERM instead of living on.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => onSignal('SIGTERM'));
}
// A reader that went away (`baton … | head`) must not crash baton: the command's exit code and
// the release of the lease matter more than output nobody reads (EPIPE; SIGPIPE is ignored by Node).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const code = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  signal: controller.signal,
});
process.exitCode = code;
// Whatever a backend client may still hold open (a reconnect timer) must not keep baton alive.
setTimeout(() => process.exit(code), 1_000).unref();
