/** How many forgotten names keep their highest token (about 100 bytes each). */
const REMEMBERED = 10_000;

/**
 * The highest fencing token of each lock name whose mutex was forgotten while idle, so a
 * mutex made again for the name still writes a token above every one this process has seen
 * there (the contender's guard against a record deleted and recreated). Bounded: beyond
 * {@link REMEMBERED} names the one remembered first goes, and that name relies on the backend's own counter
 * (Redis, PostgreSQL) as a restarted process would.
 */
export class ForgottenTokens {
  private readonly tokens = new Map<string, number>();

  remember(name: string, token: number): void {
    if (token <= 0) return;
    this.tokens.set(name, token);
    if (this.tokens.size > REMEMBERED) this.tokens.delete(this.tokens.keys().next().value!);
  }

  /** The token remembered for `name` (0 when none), forgetting it: the new mutex keeps it from now on. */
  take(name: string): number {
    const token = this.tokens.get(name);
    if (token === undefined) return 0;
    this.tokens.delete(name);
    return token;
  }
}
