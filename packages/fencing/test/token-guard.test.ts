import { describe, expect, it } from '@jest/globals';
import { InvalidTokenError, StaleTokenError, TokenGuard, parseToken } from '../src/index.ts';

describe('TokenGuard', () => {
  it('admits equal and larger tokens and refuses smaller ones, per resource', () => {
    const guard = new TokenGuard();
    expect(guard.check('a', 3)).toBe(3);
    expect(guard.check('a', 3)).toBe(3); // one term writes many times
    expect(() => guard.check('a', 2)).toThrow(StaleTokenError);
    expect(guard.admit('b', 1)).toBe(true); // another resource has its own fence
    expect(guard.admit('a', 2)).toBe(false);
    expect(guard.check('a', 7)).toBe(7);
    expect(guard.highestToken('a')).toBe(7);
    expect(guard.highestToken('never-written')).toBe(0);
  });

  it('names the resource, the refused token and the highest one in the error', () => {
    const guard = new TokenGuard();
    guard.check('ledger', 9);
    const error = (() => {
      try {
        guard.check('ledger', 4);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })() as StaleTokenError;
    expect(error).toBeInstanceOf(StaleTokenError);
    expect(error).toMatchObject({ code: 'FENCING_STALE_TOKEN', resource: 'ledger', token: 4, highest: 9 });
    expect(error.message).toBe('stale fencing token 4 for "ledger": token 9 has already written');
  });

  it('refuses tokens that are not positive integers without changing the fence', () => {
    const guard = new TokenGuard();
    guard.check('a', 5);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => guard.check('a', bad)).toThrow(InvalidTokenError);
    }
    expect(() => guard.admit('a', '6' as unknown as number)).toThrow(InvalidTokenError);
    expect(guard.highestToken('a')).toBe(5);
  });
});

describe('parseToken', () => {
  it('reads decimal digits only', () => {
    expect(parseToken('42')).toBe(42);
    expect(parseToken(' 42 ')).toBe(42);
    for (const bad of ['', '0', '-3', '+3', '1e3', '0x10', '4 2', '12abc', '99999999999999999']) {
      expect(() => parseToken(bad)).toThrow(InvalidTokenError);
    }
    expect(() => parseToken(undefined)).toThrow('invalid fencing token: missing');
    expect(() => parseToken(['1', '2'])).toThrow('given more than once');
  });
});
