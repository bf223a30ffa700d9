/**
 * One-at-a-time turns per key: a turn starts when every earlier turn on the same key has
 * ended. Keys with no turn pending are forgotten, so memory follows the keys in use.
 */
export class Turns {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for `key`'s turn. @returns the function that ends the turn (idempotent). */
  async take(key: string): Promise<() => void> {
    const previous = this.tails.get(key);
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const tail = (previous ?? Promise.resolve()).then(() => ended);
    this.tails.set(key, tail);
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      end();
      // The last turn on a key removes it; a later take() found a newer tail and keeps it.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
    if (previous) await previous;
    return release;
  }
}
