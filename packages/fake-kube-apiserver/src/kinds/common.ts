// Schemas and columns shared by every kind: ObjectMeta, ObjectReference, the Name and Age columns.

import { S, f, type Schema } from '../schema.ts';
import { humanDuration } from '../time.ts';
import { meta, str, type Column } from './types.ts';

export const ownerReference: Schema = S.object('OwnerReference', [
  f('apiVersion', S.string, 'always'),
  f('kind', S.string, 'always'),
  f('name', S.string, 'always'),
  f('uid', S.string, 'always'),
  f('controller', S.bool, 'pointer'),
  f('blockOwnerDeletion', S.bool, 'pointer'),
]);

export const objectMeta: Schema = S.object('ObjectMeta', [
  f('name', S.string),
  f('generateName', S.string),
  f('namespace', S.string),
  f('selfLink', S.string),
  f('uid', S.string),
  f('resourceVersion', S.string),
  f('generation', S.int64),
  f('creationTimestamp', S.time, 'always'),
  f('deletionTimestamp', S.time, 'pointer'),
  f('deletionGracePeriodSeconds', S.int64, 'pointer'),
  f('labels', S.map(S.string)),
  f('annotations', S.map(S.string)),
  f('ownerReferences', S.array(ownerReference)),
  f('finalizers', S.array(S.string)),
  f('managedFields', S.array(S.any)),
]);

export const objectReference: Schema = S.object('ObjectReference', [
  f('kind', S.string),
  f('namespace', S.string),
  f('name', S.string),
  f('uid', S.string),
  f('apiVersion', S.string),
  f('resourceVersion', S.string),
  f('fieldPath', S.string),
]);

export function typedObject(goName: string, fields: ReturnType<typeof f>[]): Schema {
  return S.object(goName, [f('kind', S.string), f('apiVersion', S.string), f('metadata', objectMeta, 'always'), ...fields]);
}

export const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
  cell: (o) => str(meta(o).name),
};

export const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  format: '',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  priority: 0,
  cell: (o, now) => {
    const t = Date.parse(str(meta(o).creationTimestamp));
    return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
  },
};

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
