// Events: core/v1 Event and events.k8s.io/v1 Event are two views of the same stored objects, as
// on a real server. Stored in the core/v1 shape; the events.k8s.io view is converted on the way in
// and out (pkg/apis/events/v1 conversion) and validated by the stricter new-style rules.

import { S, f } from '../schema.ts';
import { fieldErr, type FieldError } from '../status.ts';
import { humanDuration } from '../time.ts';
import { dns1123Subdomain, validateQualifiedName } from '../validation.ts';
import { ALL_VERBS, nameColumn, objectReference, typedObject } from './common.ts';
import { meta, str, type Column, type KindDef, type Obj } from './types.ts';

const eventSource = S.object('EventSource', [f('component', S.string), f('host', S.string)]);

const coreEventSchema = typedObject('Event', [
  f('involvedObject', objectReference, 'always'),
  f('reason', S.string),
  f('message', S.string),
  f('source', eventSource, 'always'),
  f('firstTimestamp', S.time, 'always'),
  f('lastTimestamp', S.time, 'always'),
  f('count', S.int32),
  f('type', S.string),
  f('eventTime', S.microtime, 'always'),
  f('series', S.object('EventSeries', [f('count', S.int32), f('lastObservedTime', S.microtime, 'always')]), 'pointer'),
  f('action', S.string),
  f('related', objectReference, 'pointer'),
  f('reportingComponent', S.string, 'always'),
  f('reportingInstance', S.string, 'always'),
]);

const eventsV1Schema = typedObject('Event', [
  f('eventTime', S.microtime, 'always'),
  f('series', S.object('EventSeries', [f('count', S.int32, 'always'), f('lastObservedTime', S.microtime, 'always')]), 'pointer'),
  f('reportingController', S.string),
  f('reportingInstance', S.string),
  f('action', S.string),
  f('reason', S.string),
  f('regarding', objectReference, 'always'),
  f('related', objectReference, 'pointer'),
  f('note', S.string),
  f('type', S.string),
  f('deprecatedSource', eventSource, 'always'),
  f('deprecatedFirstTimestamp', S.time, 'always'),
  f('deprecatedLastTimestamp', S.time, 'always'),
  f('deprecatedCount', S.int32),
]);

const REPORTING_INSTANCE_MAX = 128;
const ACTION_MAX = 128;
const REASON_MAX = 128;
const NOTE_MAX = 1024;

/** legacyValidateEvent, on the stored (core) shape. */
function legacyValidate(e: Obj, reportingField: string): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(meta(e).namespace);
  const involvedNs = str(((e.involvedObject ?? {}) as Obj).namespace);
  if (!e.eventTime) {
    if (!involvedNs) {
      if (ns !== '' && ns !== 'default') {
        errs.push(fieldErr.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
      }
    } else if (ns !== involvedNs) {
      errs.push(fieldErr.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') {
      errs.push(fieldErr.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
    const controller = str(e.reportingComponent);
    if (!controller) errs.push(fieldErr.required(reportingField));
    errs.push(...validateQualifiedName(reportingField, controller));
    const instance = str(e.reportingInstance);
    if (!instance) errs.push(fieldErr.required('reportingInstance'));
    if (instance.length > REPORTING_INSTANCE_MAX) {
      errs.push(fieldErr.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_MAX} characters`));
    }
    const action = str(e.action);
    if (!action) errs.push(fieldErr.required('action'));
    if (action.length > ACTION_MAX) errs.push(fieldErr.invalid('action', '', `can have at most ${ACTION_MAX} characters`));
    const reason = str(e.reason);
    if (!reason) errs.push(fieldErr.required('reason'));
    if (reason.length > REASON_MAX) errs.push(fieldErr.invalid('reason', '', `can have at most ${REASON_MAX} characters`));
    if (str(e.message).length > NOTE_MAX) {
      errs.push(fieldErr.invalid('message', '', `can have at most ${NOTE_MAX} characters`));
    }
  }
  for (const m of dns1123Subdomain(ns)) errs.push(fieldErr.invalid('namespace', ns, m));
  return errs;
}

/** The events.k8s.io/v1 create rules (on the stored shape, with the internal field names). */
function validateEventsV1(e: Obj): FieldError[] {
  const errs = legacyValidate(e, 'reportingController');
  const series = e.series as Obj | undefined;
  if (series) {
    if (typeof series.count !== 'number' || series.count < 2) {
      errs.push(fieldErr.invalid('series.count', '', 'should be at least 2'));
    }
    if (!series.lastObservedTime) errs.push(fieldErr.required('series.lastObservedTime'));
  }
  if (!e.eventTime) errs.push(fieldErr.required('eventTime'));
  const type = str(e.type);
  if (type !== 'Normal' && type !== 'Warning') errs.push(fieldErr.invalid('type', '', `has invalid value: ${type}`));
  if (e.firstTimestamp) errs.push(fieldErr.invalid('firstTimestamp', '', 'needs to be unset'));
  if (e.lastTimestamp) errs.push(fieldErr.invalid('lastTimestamp', '', 'needs to be unset'));
  if (e.count) errs.push(fieldErr.invalid('count', '', 'needs to be unset'));
  const source = (e.source ?? {}) as Obj;
  if (source.component || source.host) errs.push(fieldErr.invalid('source', '', 'needs to be unset'));
  return errs;
}

function setIfPresent(out: Obj, key: string, v: unknown): void {
  if (v !== undefined) out[key] = v;
}

/** events.k8s.io/v1 Event to the stored core/v1 shape. */
function v1ToCore(e: Obj): Obj {
  const out: Obj = { kind: 'Event', apiVersion: 'v1', metadata: e.metadata };
  setIfPresent(out, 'involvedObject', e.regarding);
  setIfPresent(out, 'reason', e.reason);
  setIfPresent(out, 'message', e.note);
  setIfPresent(out, 'source', e.deprecatedSource);
  setIfPresent(out, 'firstTimestamp', e.deprecatedFirstTimestamp);
  setIfPresent(out, 'lastTimestamp', e.deprecatedLastTimestamp);
  setIfPresent(out, 'count', e.deprecatedCount);
  setIfPresent(out, 'type', e.type);
  setIfPresent(out, 'eventTime', e.eventTime);
  setIfPresent(out, 'series', e.series);
  setIfPresent(out, 'action', e.action);
  setIfPresent(out, 'related', e.related);
  setIfPresent(out, 'reportingComponent', e.reportingController);
  setIfPresent(out, 'reportingInstance', e.reportingInstance);
  return out;
}

/** The stored core/v1 shape to events.k8s.io/v1. */
function coreToV1(e: Obj): Obj {
  const out: Obj = { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: e.metadata };
  setIfPresent(out, 'eventTime', e.eventTime);
  setIfPresent(out, 'series', e.series);
  setIfPresent(out, 'reportingController', e.reportingComponent);
  setIfPresent(out, 'reportingInstance', e.reportingInstance);
  setIfPresent(out, 'action', e.action);
  setIfPresent(out, 'reason', e.reason);
  setIfPresent(out, 'regarding', e.involvedObject);
  setIfPresent(out, 'related', e.related);
  setIfPresent(out, 'note', e.message);
  setIfPresent(out, 'type', e.type);
  setIfPresent(out, 'deprecatedSource', e.source);
  setIfPresent(out, 'deprecatedFirstTimestamp', e.firstTimestamp);
  setIfPresent(out, 'deprecatedLastTimestamp', e.lastTimestamp);
  setIfPresent(out, 'deprecatedCount', e.count);
  return out;
}

function lastSeen(o: Obj, now: number, ...fields: string[]): string {
  for (const field of fields) {
    const parts = field.split('.');
    let v: unknown = o;
    for (const p of parts) v = (v as Obj | undefined)?.[p];
    const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    if (!Number.isNaN(t)) return humanDuration(now - t);
  }
  return '<unknown>';
}

function objectCell(ref: unknown): string {
  const r = (ref ?? {}) as Obj;
  return `${str(r.kind).toLowerCase()}/${str(r.name)}`;
}

const desc = (d: string): string => d;

function eventColumns(refField: string, noteField: string, timeFields: string[]): Column[] {
  return [
    { name: 'Last Seen', type: 'string', format: '', description: desc('Time when this Event was last seen'), priority: 0, cell: (o, now) => lastSeen(o, now, ...timeFields) },
    { name: 'Type', type: 'string', format: '', description: desc('Type of this event (Normal, Warning), new types could be added in the future.'), priority: 0, cell: (o) => str(o.type) },
    { name: 'Reason', type: 'string', format: '', description: desc('This should be a short, machine understandable string that gives the reason for this event being generated.'), priority: 0, cell: (o) => str(o.reason) },
    { name: 'Object', type: 'string', format: '', description: desc('The object this Event is about.'), priority: 0, cell: (o) => objectCell(o[refField]) },
    { name: 'Subobject', type: 'string', format: '', description: desc('The subobject (field path) this Event is about.'), priority: 1, cell: (o) => str(((o[refField] ?? {}) as Obj).fieldPath) },
    { name: 'Message', type: 'string', format: '', description: desc('A human-readable description of the status of this operation.'), priority: 0, cell: (o) => str(o[noteField]) },
    { ...nameColumn, priority: 1 },
  ];
}

export const coreEvent: KindDef = {
  group: '',
  version: 'v1',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  verbs: ALL_VERBS,
  storageKey: 'events',
  schema: coreEventSchema,
  nameValidator: dns1123Subdomain,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  tracksGeneration: false,
  preservesStatus: false,
  validate: (e) => legacyValidate(e, 'reportingComponent'),
  validateUpdate: (e) => legacyValidate(e, 'reportingComponent'),
  fieldLabels: {
    'involvedObject.kind': (o) => str(((o.involvedObject ?? {}) as Obj).kind),
    'involvedObject.namespace': (o) => str(((o.involvedObject ?? {}) as Obj).namespace),
    'involvedObject.name': (o) => str(((o.involvedObject ?? {}) as Obj).name),
    'involvedObject.uid': (o) => str(((o.involvedObject ?? {}) as Obj).uid),
    'involvedObject.apiVersion': (o) => str(((o.involvedObject ?? {}) as Obj).apiVersion),
    'involvedObject.resourceVersion': (o) => str(((o.involvedObject ?? {}) as Obj).resourceVersion),
    'involvedObject.fieldPath': (o) => str(((o.involvedObject ?? {}) as Obj).fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(((o.source ?? {}) as Obj).component),
    type: (o) => str(o.type),
  },
  columns: eventColumns('involvedObject', 'message', ['lastTimestamp', 'series.lastObservedTime', 'eventTime', 'metadata.creationTimestamp']),
};

export const eventsV1Event: KindDef = {
  ...coreEvent,
  group: 'events.k8s.io',
  shortNames: ['ev'],
  schema: eventsV1Schema,
  validate: (e) => validateEventsV1(v1ToCore(e)),
  validateUpdate: (e) => legacyValidate(v1ToCore(e), 'reportingController'),
  toStorage: v1ToCore,
  fromStorage: coreToV1,
  fieldLabels: {
    'regarding.kind': (o) => str(((o.regarding ?? {}) as Obj).kind),
    'regarding.namespace': (o) => str(((o.regarding ?? {}) as Obj).namespace),
    'regarding.name': (o) => str(((o.regarding ?? {}) as Obj).name),
    'regarding.uid': (o) => str(((o.regarding ?? {}) as Obj).uid),
    reason: (o) => str(o.reason),
    reportingController: (o) => str(o.reportingController),
    type: (o) => str(o.type),
  },
  columns: eventColumns('regarding', 'note', ['deprecatedLastTimestamp', 'series.lastObservedTime', 'eventTime', 'metadata.creationTimestamp']),
};
