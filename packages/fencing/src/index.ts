/**
 * @packageDocumentation
 * `@baton/fencing` — the other half of fencing tokens: enforcing them where the writes land.
 *
 * A leader term (`term.fencingToken`) or a lock handle (`handle.fencingToken`) carries a
 * token that grows with every acquisition. A resource that remembers the highest token that
 * has written to it, and refuses a smaller one, cannot be written by a leader that has been
 * superseded — even one that was paused, partitioned or slow to notice.
 *
 * - `@baton/fencing` (this entry): {@link TokenGuard}, the rule in process memory, and the errors.
 * - `@baton/fencing/postgres`: a fence table checked inside the writer's own transaction.
 * - `@baton/fencing/redis`: writes that land only under a current token, in one script.
 * - `@baton/fencing/http`: a `Fencing-Token` header checked in front of a handler.
 *
 * The rule everywhere: a token is admitted when it is at least the highest admitted for that
 * resource (one term writes many times); a smaller one is refused with `StaleTokenError`.
 */
export { TokenGuard } from './token-guard.ts';
export { StaleTokenError, InvalidTokenError } from './errors.ts';
export { checkToken, parseToken } from './token.ts';
