import { StaleTokenError } from './errors.ts';
import { checkToken } from './token.ts';

/**
 * The fencing rule for a resource kept in this process's memory: a write is admitted when
 * its token is at least the highest token admitted for that resource so far, and the
 * highest token is raised to it.
 *
 * Use it where the writes land in this process (a worker that owns a file, an in-memory
 * store behind an HTTP API). It remembers only while the process lives: a resource that
 * must stay fenced across restarts belongs in the PostgreSQL or Redis fence.
 */
export class TokenGuard {
  private readonly highest = new Map<string, number>();

  /**
   * Admits a write carrying `token` to `resource`.
   * @returns the highest token now admitted for the resource (equal to `token`).
   * @throws StaleTokenError when a larger token has already been admitted;
   *   InvalidTokenError when `token` is not a positive integer.
   */
  check(resource: string, token: number): number {
    checkToken(token);
    const highest = this.highest.get(resource) ?? 0;
    if (token < highest) throw new StaleTokenError(resource, token, highest);
    this.highest.set(resource, token);
    return token;
  }

  /** Like {@link check}, but answers `false` instead of throwing for a stale token. */
  admit(resource: string, token: number): boolean {
    checkToken(token);
    if (token < (this.highest.get(resource) ?? 0)) return false;
    this.highest.set(resource, token);
    return true;
  }

  /** The highest token admitted for `resource`, 0 when none has written. */
  highestToken(resource: string): number {
    return this.highest.get(resource) ?? 0;
  }
}
