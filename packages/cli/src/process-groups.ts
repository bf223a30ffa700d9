import { readdirSync, readFileSync } from 'node:fs';

/**
 * How many processes of the given process groups are alive. On Linux zombies (exited, not
 * yet reaped) do not count; elsewhere each group that still exists counts as one.
 */
export function livingInGroups(groups: Iterable<number>): number {
  const wanted = new Set(groups);
  let count = 0;
  if (process.platform === 'linux') {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (wanted.has(Number(pgrp)) && state !== 'Z' && state !== 'X') count++;
      } catch {
        // exited while we looked
      }
    }
    return count;
  }
  for (const group of wanted) {
    try {
      process.kill(-group, 0);
      count++;
    } catch {
      // gone
    }
  }
  return count;
}
