// A minimal OpenAPI v3 surface: the /openapi/v3 root and, per group-version, the PATCH operation
// of each served kind with its `fieldValidation` parameter and `x-kubernetes-group-version-kind`.
// That is what kubectl looks for to decide that the server validates fields itself
// (`kubectl apply` then sends fieldValidation=Strict and skips client-side schema validation).
// No component schemas are served, so kubectl computes strategic merge patches from its compiled-in
// types (as it does for any kind it finds no OpenAPI schema for).

import { createHash } from 'node:crypto';
import { groupVersion, KINDS, type KindDef } from './kinds/index.ts';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function allGroupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of KINDS) seen.set(gvPath(k.group, k.version), { group: k.group, version: k.version });
  return [...seen.values()];
}

/** /openapi/v3: one path per served group version, so kubectl knows the server validates fields. */
export function openApiV3Root(): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of allGroupVersions()) {
    const p = gvPath(gv.group, gv.version);
    const hash = createHash('sha512').update(JSON.stringify(openApiV3Document(p))).digest('hex').slice(0, 128).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}

const queryParam = (name: string): Record<string, unknown> => ({
  name,
  in: 'query',
  description: name,
  schema: { type: 'string', uniqueItems: true },
});

function itemPath(def: KindDef): string {
  const base = `/${gvPath(def.group, def.version)}`;
  return def.namespaced ? `${base}/namespaces/{namespace}/${def.resource}/{name}` : `${base}/${def.resource}/{name}`;
}

function operationId(def: KindDef): string {
  const g = def.group ? def.group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase()) : 'Core';
  const v = def.version.replace(/^./, (c) => c.toUpperCase());
  return `patch${g}${v}${def.namespaced ? 'Namespaced' : ''}${def.kind}`;
}

/** The document of one group-version (`api/v1`, `apis/coordination.k8s.io/v1`), or undefined. */
export function openApiV3Document(path: string): Record<string, unknown> | undefined {
  const gv = allGroupVersions().find((x) => gvPath(x.group, x.version) === path);
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  for (const def of KINDS.filter((k) => k.group === gv.group && k.version === gv.version)) {
    const anySchema = { schema: { type: 'object' } };
    paths[itemPath(def)] = {
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } },
        ...(def.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }] : []),
        queryParam('pretty'),
      ],
      patch: {
        tags: [groupVersion(def)],
        description: `partially update the specified ${def.kind}`,
        operationId: operationId(def),
        parameters: [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation'), { ...queryParam('force'), schema: { type: 'boolean', uniqueItems: true } }],
        requestBody: {
          content: {
            'application/apply-patch+yaml': anySchema,
            'application/json-patch+json': anySchema,
            'application/merge-patch+json': anySchema,
          },
          required: true,
        },
        responses: { '200': { description: 'OK' }, '201': { description: 'Created' }, '401': { description: 'Unauthorized' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: def.group, kind: def.kind, version: def.version },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    components: { schemas: {} },
  };
}
