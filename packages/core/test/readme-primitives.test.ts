// The semaphore and reader-writer example of the README, compiled by `pnpm typecheck` and run
// here (real clock, in-memory store). The region between the markers must appear in
// README.md verbatim.
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DistributedLocks, MemoryLockStore } from '@baton/core';

const rendered: number[] = [];
const written: number[] = [];
let stored = 0;
async function render({ fencingToken, signal }: { fencingToken: number; signal: AbortSignal }): Promise<void> {
  expect(signal.aborted).toBe(false);
  rendered.push(fencingToken);
}
async function readPrice(writeEpoch: number): Promise<number> {
  expect(writeEpoch).toBe(0);
  return stored;
}
async function writePrice(fencingToken: number): Promise<void> {
  written.push(fencingToken);
  stored = 42;
}

// readme:begin
const locks = new DistributedLocks({ factory: new MemoryLockStore() }); // any ResourceLockFactory
const signal = AbortSignal.timeout(60_000);

const sem = locks.semaphore('report-workers', { permits: 3 });
{
  await using permit = await sem.acquire({ signal, timeout: '30s' }); // or sem.tryAcquire() → handle | undefined
  permit.assertHeld();
}
await sem.withPermit(async ({ fencingToken, signal }) => render({ fencingToken, signal }));

const rw = locks.readWrite('catalog');
const price = await rw.withRead(async (held) => readPrice(held.writeEpoch)); // acquireRead / tryAcquireRead
await rw.withWrite(async ({ fencingToken }) => writePrice(fencingToken));   // acquireWrite / tryAcquireWrite
// readme:end
locks.close();

test('the README shows the example verbatim', () => {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const region = source.slice(source.indexOf('// readme:begin\n') + 16, source.indexOf('// readme:end'));
  // The README also declares the work this test defines (`render`, `readPrice`, `writePrice`),
  // so the example compiles alone in the consumer test; those declarations are all it adds.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => !/^declare function (render|readPrice|writePrice)\b/.test(line))
    .join('\n')
    .replace(/(from '@baton\/core';\n)\n\n/g, '$1\n');
  expect(region.length).toBeGreaterThan(200);
  expect(readme).toContain(region);
});

test('the example ran: a permit with the second token, a read, then a write', () => {
  expect(rendered).toEqual([2]);
  expect(price).toBe(0);
  expect(written).toEqual([1]);
  expect(stored).toBe(42);
});
