// The command a sidecar candidate's `baton run` starts while it leads: writes to the protected
// resource every HARNESS_WRITE_INTERVAL ms with the token baton hands it in
// BATON_FENCING_TOKEN, recording each write (synchronously, before it leaves) in its own
// history file and on stdout — which is baton's stdout, so the harness sees it too.
//
// Its clock is exact without measuring: it stamps `process.hrtime` (the machine's monotonic
// clock, the same in every process) plus HARNESS_CLOCK_OFFSET, the harness's own offset from
// that clock to its `now()`, so its `clock` event carries offset 0 and uncertainty 0.
//
// Environment: BATON_FENCING_TOKEN and BATON_IDENTITY (from baton), HARNESS_RESOURCE (URL),
// HARNESS_DIR, HARNESS_SLOT, HARNESS_HOST (the spawn id of the baton process that runs it),
// HARNESS_CLOCK_OFFSET, HARNESS_WRITE_INTERVAL. Records `stop` on SIGTERM and exits.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../lib/clock.ts';
import { postWrite } from './write-client.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const offsetMs = Number(env('HARNESS_CLOCK_OFFSET'));
const stamp = (): number => Number(process.hrtime.bigint() / 1000n) / 1000 + offsetMs;
const token = Number(env('BATON_FENCING_TOKEN'));
const identity = env('BATON_IDENTITY');
const slot = Number(env('HARNESS_SLOT'));
const host = env('HARNESS_HOST');
const resourceUrl = env('HARNESS_RESOURCE');
const writeIntervalMs = Number(env('HARNESS_WRITE_INTERVAL'));
const historyFile = join(env('HARNESS_DIR'), `candidate-${slot}-command-${process.pid}.jsonl`);

function record(ev: string, fields: Record<string, unknown> = {}): void {
  const line = `${JSON.stringify({ src: 'candidate', t: stamp(), pid: process.pid, slot, identity, ev, ...fields })}\n`;
  appendFileSync(historyFile, line);
  process.stdout.write(line);
}

process.on('SIGTERM', () => {
  record('stop', { token, reason: 'SIGTERM' });
  process.exit(0);
});

record('clock', { offsetMs: 0, uncertaintyMs: 0, samples: 0 });
record('start', { token, mode: 'sidecar', host });
for (let seq = 1; ; seq++) {
  const sentAt = stamp();
  record('send', { token, seq });
  const outcome = await postWrite(resourceUrl, { pid: process.pid, identity, token, seq });
  record('write', { token, seq, sentAt, ...outcome });
  await sleep(writeIntervalMs);
}
