/** How many forgotten names keep their highest token, at least (about 100 bytes each). */
const REMEMBERED = 10_000;

/**
 * The highest fencing token of each lock name whose mutex was forgotten while idle, so a
 * mutex made again for the name still writes a token above every one this process has seen
 * there (the contender's guard against a record deleted and recreated). Bounded: the names
 * are kept in two generations of {@link REMEMBERED}; when the newer fills up, the older one
 * goes whole, and its names rely on the backend's own counter (Redis, PostgreSQL) as a
 * restarted process would.
 *
 * Two maps, not one map trimmed at its oldest key: a `Map` that loses its first key on every
 * insertion keeps the deleted entries at its head until it rehashes, and finding the first
 * live key walks over them — a few microseconds per forgotten mutex at this size, measured,
 * on the hot path of a process that locks many names once each.
 */
export class ForgottenTokens {
  private newer = new Map<string, number>();
  private older = new Map<string, number>();

  remember(name: string, token: number): void {
    if (token <= 0) return;
    this.older.delete(name);
    this.newer.set(name, token);
    if (this.newer.size >= REMEMBERED) {
      this.older = this.newer;
      this.newer = new Map();
    }
  }

  /** The token remembered for `name` (0 when none), forgetting it: the new mutex keeps it from now on. */
  take(name: string): number {
    return this.takeFrom(this.newer, name) ?? this.takeFrom(this.older, name) ?? 0;
  }

  private takeFrom(generation: Map<string, number>, name: string): number | undefined {
    const token = generation.get(name);
    if (token !== undefined) generation.delete(name);
    return token;
  }
}
