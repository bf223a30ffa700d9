import { describe, expect, test } from '@jest/globals';
import { FakeClock } from '@baton/core';
import { HOLD_STREAK, RateLimiter } from '../src/index.ts';

describe('RateLimiter', () => {
  test('lets a burst through at once, then paces requests at qps', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, 3, clock);
    const granted: number[] = [];
    for (let i = 0; i < 6; i++) void limiter.take('acquire').then(() => granted.push(clock.now()));
    await clock.advance(0);
    expect(granted).toEqual([0, 0, 0]);
    await clock.advance(350);
    expect(granted).toEqual([0, 0, 0, 100, 200, 300]);
  });

  test('a request for a held lease goes before every waiting acquisition', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, 1, clock);
    const order: string[] = [];
    await limiter.take('acquire'); // the burst
    for (let i = 0; i < 3; i++) void limiter.take('acquire').then(() => order.push(`acquire-${i}`));
    void limiter.take('hold').then(() => order.push('renewal'));
    await clock.advance(400);
    // Held leases first come, first served; acquisitions newest first (see RateLimiter).
    expect(order).toEqual(['renewal', 'acquire-2', 'acquire-1', 'acquire-0']);
  });

  test('renewals cannot starve acquisitions: one acquisition after every HOLD_STREAK held-lease requests', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, 1, clock);
    await limiter.take('acquire');
    const order: string[] = [];
    for (let i = 0; i < 2; i++) void limiter.take('acquire').then(() => order.push('A'));
    for (let i = 0; i < 6; i++) void limiter.take('hold').then(() => order.push('H'));
    await clock.advance(1_000);
    expect(HOLD_STREAK).toBe(4);
    expect(order.join('')).toBe('HHHHAHHA');
  });

  test('an aborted waiter leaves the queue with its signal\'s reason and takes no token', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, 1, clock);
    await limiter.take('acquire');
    const controller = new AbortController();
    const aborted = limiter.take('acquire', controller.signal);
    const next = limiter.take('acquire').then(() => clock.now());
    controller.abort(new Error('deadline'));
    await expect(aborted).rejects.toThrow('deadline');
    expect(limiter.waiting).toBe(1);
    await clock.advance(150);
    await expect(next).resolves.toBe(100);
  });

  test('requests in flight are bounded; a slot freed goes to a held lease first', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(Number.POSITIVE_INFINITY, 1, clock, 2);
    const first = await limiter.take('acquire');
    await limiter.take('acquire');
    const order: string[] = [];
    void limiter.take('acquire').then(() => order.push('acquire'));
    void limiter.take('hold').then(() => order.push('renewal'));
    await clock.advance(10);
    expect(order).toEqual([]);
    first();
    first(); // a second call changes nothing
    await clock.advance(0);
    expect(order).toEqual(['renewal']);
    expect(limiter.waiting).toBe(1);
  });

  test('close rejects every waiter', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(1, 1, clock);
    await limiter.take('hold');
    const waiting = limiter.take('hold');
    limiter.close(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    expect(clock.pendingTimers).toBe(0);
  });
});
