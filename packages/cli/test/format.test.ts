import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createLogger, prettyLine } from '../src/logger.ts';
import { clockTime, formatAge, holderOf, LOCK_COLUMNS, lockJson, TextTable } from '../src/record-table.ts';

describe('record formatting', () => {
  it('prints ages as kubectl does', () => {
    expect([850, 3_240, 42_000, 310_000, 7_500_000, -1_500, Number.NaN].map(formatAge)).toEqual([
      '850ms', '3.2s', '42s', '5m10s', '2h5m', '-1.5s', '<unknown>',
    ]);
    expect(clockTime(new Date(2026, 0, 2, 3, 4, 5, 6).getTime())).toBe('03:04:05.006');
  });

  it('lays out a table, widening columns as needed', () => {
    const table = new TextTable<{ a: string; b: string }>([
      { header: 'A', value: (r) => r.a },
      { header: 'B', value: (r) => r.b, align: 'right' },
    ]);
    expect(table.header()).toBe('A   B');
    expect(table.row({ a: 'long value', b: '7' })).toBe('long value   7');
    expect(table.header()).toBe('A            B');
  });

  it('shows a record, a released one and a missing one', () => {
    const record = { holderIdentity: 'x', leaseDurationMs: 15_000, acquireTime: 1_000, renewTime: 5_000, leaderTransitions: 2, fencingToken: 9 };
    const row = { name: 'jobs', snapshot: { record, version: 'v1' }, at: 61_000 };
    const table = new TextTable(LOCK_COLUMNS);
    expect(table.row(row)).toMatch(/^jobs\s+x\s+2\s+9\s+15s\s+1m0s ago\s+\d\d:\d\d:05\.000$/);
    expect(holderOf({ record: { ...record, holderIdentity: '' }, version: 'v' })).toBe('<released>');
    expect(holderOf(null)).toBe('<none>');
    expect(lockJson(row, 'memory jobs')).toMatchObject({ name: 'jobs', lock: 'memory jobs', found: true, fencingToken: 9, version: 'v1', renewTime: '1970-01-01T00:00:05.000Z' });
    expect(lockJson({ name: 'jobs', snapshot: null, at: 0 }, 'memory jobs')).toEqual({ name: 'jobs', lock: 'memory jobs', found: false, observedAt: '1970-01-01T00:00:00.000Z' });
  });
});

describe('logs', () => {
  it('makes one readable line of a JSON log line', () => {
    const line = JSON.stringify({ level: 30, time: '2026-11-21T15:07:58.062Z', pid: 1, msg: 'started leading', lock: 'x', identity: 'a b', fencingToken: 1 });
    expect(prettyLine(line)).toBe('15:07:58.062 INFO  started leading  lock=x identity="a b" fencingToken=1\n');
    expect(prettyLine(line, true)).toContain('\x1b[32mINFO \x1b[0m');
    expect(prettyLine('not json')).toBe('not json\n');
    expect(prettyLine(JSON.stringify({ level: 40, time: 0, msg: 'w' }))).toBe('00:00:00.000 WARN  w\n');
  });

  it('writes JSON or pretty lines to a file descriptor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-log-'));
    try {
      for (const format of ['json', 'pretty'] as const) {
        const path = join(dir, format);
        const file = await open(path, 'w');
        const logger = createLogger({ format, fd: file.fd, base: { app: 'test' } });
        logger.info({ identity: 'a' }, 'campaigning');
        logger.debug({}, 'hidden at info level');
        await file.close();
        const text = await readFile(path, 'utf8');
        if (format === 'json') expect(JSON.parse(text)).toMatchObject({ level: 30, msg: 'campaigning', identity: 'a', app: 'test' });
        else expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}campaigning {2}app=test identity=a\n$/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
