import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * An identity for this process: the host name plus a random suffix, so two processes on
 * one host (or a restarted process) never campaign under the same identity. In Kubernetes,
 * prefer the pod name from the downward API, which is already unique.
 */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}
