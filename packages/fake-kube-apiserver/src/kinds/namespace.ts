// core/v1 Namespace. Namespaces also spring into existence when an object is created in one.

import { S, f } from '../schema.ts';
import { dns1123Label } from '../validation.ts';
import { ageColumn, nameColumn, typedObject } from './common.ts';
import { str, type KindDef, type Obj } from './types.ts';

export const NAME_LABEL = 'kubernetes.io/metadata.name';

function setNameLabel(obj: Obj): void {
  const m = (obj.metadata ?? {}) as Obj;
  const labels = ((m.labels ?? {}) as Record<string, string>);
  labels[NAME_LABEL] = str(m.name);
  m.labels = labels;
}

export const namespace: KindDef = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  storageKey: 'namespaces',
  schema: typedObject('Namespace', [
    f('spec', S.object('NamespaceSpec', [f('finalizers', S.array(S.string))]), 'always'),
    f('status', S.any, 'always'),
  ]),
  nameValidator: dns1123Label,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  tracksGeneration: false,
  preservesStatus: true,
  prepareForCreate(obj) {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
    setNameLabel(obj);
  },
  prepareForUpdate(obj, old) {
    obj.spec = old.spec;
    setNameLabel(obj);
  },
  fieldLabels: {
    'status.phase': (o) => str(((o.status ?? {}) as Obj).phase),
  },
  columns: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      format: '',
      description: 'The status of the namespace',
      priority: 0,
      cell: (o) => str(((o.status ?? {}) as Obj).phase),
    },
    ageColumn,
  ],
};
