// Label selectors (k8s.io/apimachinery/pkg/labels) and field selectors (pkg/fields).

import { labelValueErrors, qualifiedNameErrors } from './validation.ts';

export type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

type Token =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '=' | '==' | '!=' | '!' | '>' | '<' }
  | { t: '(' | ')' | ',' };

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c });
      i++;
    } else if (c === '=' || c === '!' || c === '>' || c === '<') {
      if (c === '=' && input[i + 1] === '=') {
        out.push({ t: 'op', v: '==' });
        i += 2;
      } else if (c === '!' && input[i + 1] === '=') {
        out.push({ t: 'op', v: '!=' });
        i += 2;
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    } else {
      let j = i;
      while (j < input.length && !/[\s(),=!<>]/.test(input[j]!)) j++;
      out.push({ t: 'id', v: input.slice(i, j) });
      i = j;
    }
  }
  return out;
}

function checkKey(key: string): void {
  const errs = qualifiedNameErrors(key);
  if (errs.length) throw new SelectorError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: ${errs[0]}`);
}

function checkValue(v: string, i: number): void {
  const errs = labelValueErrors(v);
  if (errs.length) throw new SelectorError(`unable to parse requirement: values[${i}][key]: Invalid value: ${JSON.stringify(v)}: ${errs[0]}`);
}

export function parseLabelSelector(input: string): LabelRequirement[] {
  const toks = lex(input);
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const peek = (): Token | undefined => toks[i];
  const fail = (what: string): never => {
    throw new SelectorError(`unable to parse requirement: ${what}`);
  };
  while (i < toks.length) {
    let tok = toks[i++]!;
    if (tok.t === 'op' && tok.v === '!') {
      const key = toks[i++];
      if (!key || key.t !== 'id') fail('found end of string, expected: identifier');
      checkKey((key as { v: string }).v);
      reqs.push({ key: (key as { v: string }).v, op: '!exists', values: [] });
    } else if (tok.t === 'id') {
      const key = tok.v;
      checkKey(key);
      const next = peek();
      if (!next || next.t === ',') {
        reqs.push({ key, op: 'exists', values: [] });
      } else if (next.t === 'op' && next.v !== '!') {
        i++;
        const val = peek();
        let value = '';
        if (val && val.t === 'id') {
          value = val.v;
          i++;
        }
        if (next.v === '>' || next.v === '<') {
          if (!/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
          reqs.push({ key, op: next.v === '>' ? 'gt' : 'lt', values: [value] });
        } else {
          checkValue(value, 0);
          reqs.push({ key, op: next.v === '!=' ? '!=' : '=', values: [value] });
        }
      } else if (next.t === 'id' && (next.v === 'in' || next.v === 'notin')) {
        i++;
        if (peek()?.t !== '(') fail(`found '${JSON.stringify(peek() ?? 'end of string')}', expected: '('`);
        i++;
        const values: string[] = [];
        for (;;) {
          tok = toks[i++] ?? fail("found end of string, expected: ')'");
          if (tok.t === ')') break;
          if (tok.t === ',') continue;
          if (tok.t !== 'id') fail(`found '${JSON.stringify(tok)}', expected: ',', ')' or identifier`);
          checkValue((tok as { v: string }).v, values.length);
          values.push((tok as { v: string }).v);
        }
        if (values.length === 0) values.push('');
        reqs.push({ key, op: next.v, values });
      } else {
        fail(`found '${JSON.stringify(next)}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      fail(`found '${tok.t === 'op' ? tok.v : tok.t}', expected: !, identifier, or 'end of string'`);
    }
    const sep = peek();
    if (sep) {
      if (sep.t !== ',') fail(`found '${JSON.stringify(sep)}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return reqs;
}

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const want = Number(r.values[0]);
        return r.op === 'gt' ? n > want : n < want;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on an unescaped separator (field selector values may escape `\,` `\=` `\\`). */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(input: string): FieldRequirement[] {
  if (input.trim() === '') return [];
  return splitEscaped(input, ',').map((part) => {
    for (const [op, token] of [
      ['!=', '!='],
      ['=', '=='],
      ['=', '='],
    ] as const) {
      const idx = findUnescaped(part, token);
      if (idx >= 0) {
        return { field: part.slice(0, idx).trim(), op, value: unescape(part.slice(idx + token.length)) };
      }
    }
    throw new SelectorError(`invalid selector: '${input}'; can't understand '${part}'`);
  });
}

function findUnescaped(s: string, token: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s.startsWith(token, i)) return i;
  }
  return -1;
}

export function matchFields(reqs: FieldRequirement[], get: (field: string) => string): boolean {
  return reqs.every((r) => (r.op === '=' ? get(r.field) === r.value : get(r.field) !== r.value));
}

/** The name a field selector pins down exactly (`metadata.name=x`), as the RBAC request info uses. */
export function exactName(reqs: FieldRequirement[]): string | undefined {
  const r = reqs.find((q) => q.field === 'metadata.name' && q.op === '=');
  return r?.value;
}
