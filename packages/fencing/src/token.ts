import { InvalidTokenError } from './errors.ts';

/**
 * Checks a fencing token as every fence takes it: a positive safe integer, as baton's
 * leader terms and lock handles hand out (`term.fencingToken`, `handle.fencingToken`).
 * @throws InvalidTokenError for anything else.
 */
export function checkToken(token: unknown): number {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 1) {
    throw new InvalidTokenError(`expected a positive integer, got ${describe(token)}`);
  }
  return token;
}

/**
 * Parses a token received as text (an HTTP header): decimal digits only — no sign, no
 * exponent, no whitespace inside — so two spellings never mean the same token.
 * @throws InvalidTokenError when the text is not such a number.
 */
export function parseToken(text: string | readonly string[] | undefined): number {
  if (text === undefined) throw new InvalidTokenError('missing');
  if (typeof text !== 'string') throw new InvalidTokenError('given more than once');
  const trimmed = text.trim();
  if (!/^[1-9][0-9]{0,15}$/.test(trimmed)) throw new InvalidTokenError(`"${trimmed.slice(0, 40)}" is not a positive integer`);
  return checkToken(Number(trimmed));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
