import { expect, test } from '@jest/globals';
import { checkPrimitives } from '../src/harness/primitive-checker.ts';
import type { PrimitiveEvent } from '../src/harness/primitive-checker.ts';

/** A hold from `start` to `end` (ms), by pid, acted every 10 ms. */
function hold(pid: number, kind: 'permit' | 'read' | 'write', token: number, start: number, end: number, epoch?: number): PrimitiveEvent[] {
  const base = { src: 'primitive' as const, pid, identity: `c${pid}`, kind, token };
  const events: PrimitiveEvent[] = [{ ...base, t: start, ev: 'hold', ...(epoch === undefined ? {} : { epoch }) }];
  for (let t = start + 10; t <= end; t += 10) events.push({ ...base, t, ev: 'act' });
  events.push({ ...base, t: end + 1, ev: 'end' });
  return events;
}

test('semaphore: N holders pass, N + 1 at once is a violation', () => {
  const two = [...hold(1, 'permit', 1, 0, 100), ...hold(2, 'permit', 2, 50, 150), ...hold(3, 'permit', 3, 120, 200)];
  expect(checkPrimitives(two, 'semaphore', 2)).toMatchObject({ violations: [], maxConcurrent: 2, holds: 3 });
  const three = [...two, ...hold(4, 'permit', 4, 60, 90)];
  expect(checkPrimitives(three, 'semaphore', 2).violations).not.toEqual([]);
});

test('semaphore: a token not larger than one granted before it was asked for is a violation', () => {
  const events = [...hold(1, 'permit', 5, 0, 100), ...hold(2, 'permit', 4, 200, 300)];
  expect(checkPrimitives(events, 'semaphore', 2).violations).toEqual(['permit token 4 asked for 200.0 ms after permit token 5 was granted']);
  // Asked for before the other was granted: concurrent, not ordered.
  const concurrent = [...hold(1, 'permit', 5, 10, 100), ...hold(2, 'permit', 4, 20, 300).map((e) => (e.ev === 'hold' ? { ...e, asked: 5 } : e))];
  expect(checkPrimitives(concurrent, 'semaphore', 2).violations).toEqual([]);
});

test('reader-writer: reads together pass; a write beside a read, or a stale epoch, is a violation', () => {
  const fine = [...hold(1, 'read', 0, 0, 100, 0), ...hold(2, 'read', 0, 20, 120, 0), ...hold(3, 'write', 7, 150, 250), ...hold(1, 'read', 7, 300, 350, 7)];
  expect(checkPrimitives(fine, 'rw', 0)).toMatchObject({ violations: [], maxConcurrentReads: 2 });
  const beside = [...fine, ...hold(4, 'read', 0, 200, 220, 0)];
  expect(checkPrimitives(beside, 'rw', 0).violations.some((v) => v.startsWith('write 7'))).toBe(true);
  const stale = [...fine, ...hold(5, 'read', 3, 400, 420, 3)];
  expect(checkPrimitives(stale, 'rw', 0).violations).toEqual(['read epoch 3 granted after write 7']);
});
