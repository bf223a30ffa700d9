// Discovery documents: /version, /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}.
// Legacy (unaggregated) discovery, which kubectl and client-node fall back to when the response
// is plain application/json.

import { createHash } from 'node:crypto';
import { apiGroups, groupVersion, KINDS, type KindDef } from './kinds/index.ts';

/** What /version answers for a git version like v1.33.0 (major, minor, platform, ...), as kubectl version reads it. */
export function versionInfo(gitVersion: string): Record<string, string> {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
  const major = m?.[1] ?? '1';
  const minor = m?.[2] ?? '33';
  return {
    major,
    minor,
    emulationMajor: major,
    emulationMinor: minor,
    minCompatibilityMajor: major,
    minCompatibilityMinor: String(Math.max(0, Number(minor) - 1)),
    gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-04-23T00:00:00Z',
    goVersion: 'go1.24.2',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function storageVersionHash(def: KindDef): string {
  return createHash('sha256').update(`${def.group}/${def.version}/${def.kind}`).digest().subarray(0, 8).toString('base64');
}

function apiResource(def: KindDef): Record<string, unknown> {
  const r: Record<string, unknown> = {
    name: def.resource,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.verbs,
  };
  if (def.shortNames.length) r.shortNames = def.shortNames;
  if (def.categories.length) r.categories = def.categories;
  r.storageVersionHash = storageVersionHash(def);
  return r;
}

/** /api */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** /api/v1 or /apis/{group}/{version}; undefined when not served. */
export function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const defs = KINDS.filter((k) => k.group === group && k.version === version);
  if (defs.length === 0) return undefined;
  const list: Record<string, unknown> = { kind: 'APIResourceList' };
  if (group) list.apiVersion = 'v1';
  list.groupVersion = groupVersion({ group, version });
  list.resources = [...defs].sort((a, b) => a.resource.localeCompare(b.resource)).map(apiResource);
  return list;
}

function groupDoc(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** /apis */
export function groupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map((g) => groupDoc(g.name, g.versions)) };
}

/** /apis/{group}; undefined when not served. */
export function group(name: string): Record<string, unknown> | undefined {
  const g = apiGroups().find((x) => x.name === name);
  if (!g) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g.name, g.versions) };
}
