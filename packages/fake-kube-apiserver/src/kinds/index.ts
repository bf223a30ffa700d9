// The served resources, by group/version and plural name.

import { configMap } from './configmap.ts';
import { endpoints } from './endpoints.ts';
import { coreEvent, eventsV1Event } from './event.ts';
import { lease } from './lease.ts';
import { namespace } from './namespace.ts';
import { pod } from './pod.ts';
import { service } from './service.ts';
import type { KindDef } from './types.ts';

export type { KindDef, Obj, Column, CreateContext } from './types.ts';
export { NAME_LABEL } from './namespace.ts';

export const KINDS: readonly KindDef[] = [namespace, configMap, endpoints, coreEvent, pod, service, lease, eventsV1Event];

/** `group/version` as it appears in apiVersion (`v1` for the core group). */
export function groupVersion(def: Pick<KindDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

export function findKind(group: string, version: string, resource: string): KindDef | undefined {
  return KINDS.find((k) => k.group === group && k.version === version && k.resource === resource);
}

/** The groups served under /apis, with their versions. */
export function apiGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, Set<string>>();
  for (const k of KINDS) {
    if (!k.group) continue;
    if (!groups.has(k.group)) groups.set(k.group, new Set());
    groups.get(k.group)!.add(k.version);
  }
  return [...groups].map(([name, versions]) => ({ name, versions: [...versions] }));
}

/** Every def sharing a storage key (e.g. both Event APIs), so writes notify watchers of each. */
export function defsForStorage(storageKey: string): KindDef[] {
  return KINDS.filter((k) => k.storageKey === storageKey);
}
