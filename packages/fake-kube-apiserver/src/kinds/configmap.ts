// core/v1 ConfigMap (pkg/registry/core/configmap, ValidateConfigMap).

import { S, f } from '../schema.ts';
import { fieldErr, type FieldError } from '../status.ts';
import { dns1123Subdomain } from '../validation.ts';
import { ALL_VERBS, ageColumn, nameColumn, typedObject } from './common.ts';
import type { KindDef, Obj } from './types.ts';

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const MAX_SIZE = 1024 * 1024;

function validateConfigMap(obj: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const data = (obj.data ?? {}) as Record<string, string>;
  const binary = (obj.binaryData ?? {}) as Record<string, string>;
  let size = 0;
  const check = (field: string, key: string): void => {
    if (key.length > 253) errs.push(fieldErr.invalid(`${field}[${key}]`, key, 'must be no more than 253 characters'));
    if (!CONFIG_KEY.test(key) || key === '.' || key === '..' || key.startsWith('..')) {
      errs.push(
        fieldErr.invalid(
          `${field}[${key}]`,
          key,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        ),
      );
    }
  };
  for (const [k, v] of Object.entries(data)) {
    check('data', k);
    size += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(binary)) {
    check('binaryData', k);
    if (k in data) errs.push(fieldErr.invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
    size += Buffer.from(v, 'base64').length;
  }
  if (size > MAX_SIZE) {
    errs.push({ type: 'FieldValueTooLong', field: '', body: `Too long: must have at most ${MAX_SIZE} bytes` });
  }
  return errs;
}

export const configMap: KindDef = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  singular: 'configmap',
  kind: 'ConfigMap',
  namespaced: true,
  shortNames: ['cm'],
  categories: [],
  verbs: ALL_VERBS,
  storageKey: 'configmaps',
  schema: typedObject('ConfigMap', [
    f('immutable', S.bool, 'pointer'),
    f('data', S.map(S.string)),
    f('binaryData', S.map(S.string)),
  ]),
  nameValidator: dns1123Subdomain,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  tracksGeneration: false,
  preservesStatus: false,
  validate: validateConfigMap,
  validateUpdate(obj, old) {
    const errs = validateConfigMap(obj);
    if (old.immutable === true) {
      if (obj.immutable !== true) {
        errs.push(fieldErr.forbidden('immutable', 'field is immutable when `immutable` is set'));
      }
      if (JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {})) {
        errs.push(fieldErr.forbidden('data', 'field is immutable when `immutable` is set'));
      }
      if (JSON.stringify(obj.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) {
        errs.push(fieldErr.forbidden('binaryData', 'field is immutable when `immutable` is set'));
      }
    }
    return errs;
  },
  fieldLabels: {},
  columns: [
    nameColumn,
    {
      name: 'Data',
      type: 'integer',
      format: '',
      description:
        'Data contains the configuration data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.',
      priority: 0,
      cell: (o) => Object.keys((o.data ?? {}) as Obj).length + Object.keys((o.binaryData ?? {}) as Obj).length,
    },
    ageColumn,
  ],
};
