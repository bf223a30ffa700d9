// Content negotiation for the `as=Table` and `as=PartialObjectMetadata(List)` transformations
// kubectl and metadata clients ask for, and the server-side rendering of meta.k8s.io Tables.

import type { KindDef, Obj } from './kinds/index.ts';

export type Rendering =
  | { kind: 'object' }
  | { kind: 'table'; version: 'v1' | 'v1beta1'; includeObject: 'None' | 'Metadata' | 'Object' }
  | { kind: 'partial'; version: 'v1' | 'v1beta1' };

interface MediaType {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string): MediaType[] {
  return accept
    .split(',')
    .map((part) => {
      const [type = '', ...rest] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of rest) {
        const i = p.indexOf('=');
        if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
      }
      return { type: type.toLowerCase(), params };
    })
    .filter((m) => m.type !== '');
}

const JSONISH = new Set(['application/json', 'application/*', '*/*']);

/**
 * The rendering asked for by an Accept header, or null when nothing acceptable is offered
 * (406). `includeObject` comes from the query string.
 */
export function negotiate(accept: string | undefined, includeObject: string | null): Rendering | null {
  if (!accept || accept.trim() === '') return { kind: 'object' };
  for (const m of parseAccept(accept)) {
    if (!JSONISH.has(m.type)) continue;
    const as = m.params.as;
    if (!as) return { kind: 'object' };
    if (m.params.g !== 'meta.k8s.io') continue;
    const version = m.params.v === 'v1beta1' ? 'v1beta1' : m.params.v === 'v1' ? 'v1' : null;
    if (!version) continue;
    if (as === 'Table') {
      const inc = includeObject === 'None' || includeObject === 'Object' ? includeObject : 'Metadata';
      return { kind: 'table', version, includeObject: inc };
    }
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'partial', version };
  }
  return null;
}

export function partialObjectMetadata(obj: Obj, version: string): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function partialList(objs: Obj[], listMeta: Obj, version: string): Obj {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: listMeta,
    items: objs.map((o) => ({ metadata: o.metadata })),
  };
}

export function toTable(
  def: KindDef,
  objs: Obj[],
  r: Extract<Rendering, { kind: 'table' }>,
  listMeta: Obj,
  now = Date.now(),
): Obj {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${r.version}`,
    metadata: listMeta,
    columnDefinitions: def.columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format,
      description: c.description,
      priority: c.priority,
    })),
    rows: objs.map((o) => {
      const row: Obj = { cells: def.columns.map((c) => c.cell(o, now)) };
      if (r.includeObject === 'Metadata') row.object = partialObjectMetadata(o, r.version);
      else if (r.includeObject === 'Object') row.object = o;
      return row;
    }),
  };
}
