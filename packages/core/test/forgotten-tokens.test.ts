import { describe, expect, test } from '@jest/globals';
import { ForgottenTokens } from '../src/forgotten-tokens.ts';

describe('ForgottenTokens', () => {
  test('gives a remembered token back once, and 0 for a name it never saw', () => {
    const tokens = new ForgottenTokens();
    tokens.remember('a', 7);
    tokens.remember('b', 0); // nothing to keep
    expect(tokens.take('b')).toBe(0);
    expect(tokens.take('a')).toBe(7);
    expect(tokens.take('a')).toBe(0);
  });

  test('a name remembered again keeps its newest token, whichever generation held the old one', () => {
    const tokens = new ForgottenTokens();
    tokens.remember('a', 3);
    for (let i = 0; i < 10_000; i++) tokens.remember(`n${i}`, 1); // 'a' moves to the older generation
    tokens.remember('a', 9);
    expect(tokens.take('a')).toBe(9);
    expect(tokens.take('a')).toBe(0);
  });

  test('keeps at least the last 10,000 names and at most 20,000', () => {
    const tokens = new ForgottenTokens();
    const total = 45_000;
    for (let i = 0; i < total; i++) tokens.remember(`n${i}`, i + 1);
    let kept = 0;
    for (let i = 0; i < total; i++) if (tokens.take(`n${i}`) === i + 1) kept++;
    expect(kept).toBeGreaterThanOrEqual(10_000);
    expect(kept).toBeLessThanOrEqual(20_000);
    for (let i = total - 10_000; i < total; i++) tokens.remember(`n${i}`, i + 1);
    for (let i = total - 10_000; i < total; i++) expect(tokens.take(`n${i}`)).toBe(i + 1);
  });
});
