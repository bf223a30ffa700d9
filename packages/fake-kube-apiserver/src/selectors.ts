// Label selectors (k8s.io/apimachinery/pkg/labels) and field selectors (pkg/fields).

import { labelValueErrors, qualifiedNameErrors } from './validation.ts';

export type LabelOp = 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

/** A selector that does not parse; the message is the real parser's, for the 400. */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

/** apimachinery's label selector tokens; every token keeps its literal text for messages. */
type TokenKind = 'id' | 'in' | 'notin' | '!' | '!=' | '=' | '==' | '>' | '<' | '(' | ')' | ',' | 'end' | 'error';

interface Token {
  kind: TokenKind;
  literal: string;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOLS = new Set(['!', '!=', '(', ')', ',', '=', '==', '>', '<']);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/** The lexer of k8s.io/apimachinery/pkg/labels: identifiers, keywords and the longest symbol. */
function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (i < input.length && isSpace(input[i]!)) i++;
    if (i >= input.length) {
      tokens.push({ kind: 'end', literal: '' });
      return tokens;
    }
    if (SPECIAL.has(input[i]!)) {
      let symbol = '';
      let j = i;
      while (j < input.length && SPECIAL.has(input[j]!) && SYMBOLS.has(symbol + input[j]!)) symbol += input[j++]!;
      if (symbol === '') {
        tokens.push({ kind: 'error', literal: `error expected: keyword found '${input[i]}'` });
        return tokens;
      }
      tokens.push({ kind: symbol as TokenKind, literal: symbol });
      i = j;
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j]!) && !isSpace(input[j]!)) j++;
    const word = input.slice(i, j);
    tokens.push({ kind: word === 'in' || word === 'notin' ? word : 'id', literal: word });
    i = j;
  }
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

/** A field.Error message: `path: Invalid value: "v": detail` (a nil path prints as `<nil>`). */
const invalidValue = (path: string, value: string, detail: string): string => `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;

/**
 * Parses a label selector with apimachinery's grammar and messages (labels.Parse), so a bad
 * selector gets the same 400 text as from a real server.
 */
export function parseLabelSelector(input: string): LabelRequirement[] {
  const tokens = lex(input);
  let position = 0;
  // In value position the keywords `in` and `notin` are ordinary identifiers.
  const asValue = (t: Token): Token => (t.kind === 'in' || t.kind === 'notin' ? { kind: 'id', literal: t.literal } : t);
  const lookahead = (): Token => asValue(tokens[position]!);
  const consumeValue = (): Token => asValue(tokens[position++]!);
  const consumeOperator = (): Token => tokens[position++]!;
  const fail = (message: string): never => {
    throw new SelectorError(message);
  };

  const parseValues = (): string[] => {
    const open = consumeValue();
    if (open.kind !== '(') fail(`found '${open.literal}' expected: '('`);
    const first = lookahead();
    if (first.kind === ')') {
      position++;
      return [''];
    }
    if (first.kind !== 'id' && first.kind !== ',') fail(`found '${first.literal}', expected: ',', ')' or identifier`);
    const values = new Set<string>();
    for (;;) {
      const token = consumeValue();
      if (token.kind === 'id') {
        values.add(token.literal);
        const next = lookahead();
        if (next.kind === ',') continue;
        if (next.kind === ')') break;
        fail(`found '${next.literal}', expected: ',' or ')'`);
      } else if (token.kind === ',') {
        if (values.size === 0) values.add('');
        const next = lookahead();
        if (next.kind === ')') {
          values.add('');
          break;
        }
        if (next.kind === ',') {
          position++;
          values.add('');
        }
      } else {
        fail(`found '${token.literal}', expected: ',', or identifier`);
      }
    }
    if (consumeValue().kind !== ')') fail(`found '${first.literal}', expected: ')'`);
    return [...values].sort();
  };

  const parseExactValue = (): string[] => {
    const next = lookahead();
    if (next.kind === 'end' || next.kind === ',') return [''];
    const token = consumeValue();
    if (token.kind !== 'id') fail(`found '${token.literal}', expected: identifier`);
    return [token.literal];
  };

  /** NewRequirement's checks: the values a requirement's operator allows. */
  const requirement = (key: string, op: LabelOp, values: string[]): LabelRequirement => {
    const errs: string[] = [];
    if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(values[0] ?? '')) {
      errs.push(invalidValue('values[0]', values[0] ?? '', "for 'Gt', 'Lt' operators, the value must be an integer"));
    }
    values.forEach((value, i) => {
      const valueErrs = labelValueErrors(value);
      if (valueErrs.length) errs.push(invalidValue(`values[${i}][${key}]`, value, valueErrs.join('; ')));
    });
    if (errs.length === 1) fail(errs[0]!);
    if (errs.length > 1) fail(`[${errs.join(', ')}]`);
    return { key, op, values };
  };

  const parseRequirement = (): LabelRequirement => {
    let token = consumeValue();
    let negated = false;
    if (token.kind === '!') {
      negated = true;
      token = consumeValue();
    }
    if (token.kind !== 'id') fail(`found '${token.literal}', expected: identifier`);
    const key = token.literal;
    const keyErrs = qualifiedNameErrors(key);
    if (keyErrs.length) fail(invalidValue('<nil>', key, keyErrs.join('; ')));
    const next = lookahead();
    if (negated || next.kind === 'end' || next.kind === ',') return requirement(key, negated ? '!exists' : 'exists', []);
    const operator = consumeOperator();
    switch (operator.kind) {
      case 'in':
      case 'notin':
        return requirement(key, operator.kind, parseValues());
      case '=':
      case '==':
        return requirement(key, '=', parseExactValue());
      case '!=':
        return requirement(key, '!=', parseExactValue());
      case '>':
        return requirement(key, 'gt', parseExactValue());
      case '<':
        return requirement(key, 'lt', parseExactValue());
      default:
        return fail(`found '${operator.literal}', expected: ${BINARY_OPERATORS}`);
    }
  };

  const requirements: LabelRequirement[] = [];
  for (;;) {
    const start = lookahead();
    if (start.kind === 'end') return requirements;
    if (start.kind !== 'id' && start.kind !== '!') fail(`found '${start.literal}', expected: !, identifier, or 'end of string'`);
    try {
      requirements.push(parseRequirement());
    } catch (e) {
      if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
      throw e;
    }
    const separator = consumeValue();
    if (separator.kind === 'end') return requirements;
    if (separator.kind !== ',') fail(`found '${separator.literal}', expected: ',' or 'end of string'`);
    const following = lookahead();
    if (following.kind !== 'id' && following.kind !== '!') fail(`found '${following.literal}', expected: identifier after ','`);
  }
}

/** Whether labels satisfy every requirement (labels.Selector.Matches). */
export function matchLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const present = labels ?? {};
  return requirements.every((requirement) => {
    const has = Object.hasOwn(present, requirement.key);
    const value = present[requirement.key];
    switch (requirement.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && value === requirement.values[0];
      case '!=':
        return !has || value !== requirement.values[0];
      case 'in':
        return has && requirement.values.includes(value!);
      case 'notin':
        return !has || !requirement.values.includes(value!);
      case 'gt':
      case 'lt': {
        // Gt/Lt compare integers; a label that is not one never matches.
        if (!has || !/^-?\d+$/.test(value!)) return false;
        const actual = Number(value);
        const bound = Number(requirement.values[0]);
        return requirement.op === 'gt' ? actual > bound : actual < bound;
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

/** Parses a field selector (fields.ParseSelector): `a=b,c!=d`, values may escape `\\,` `\\=`. */
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

/** Whether an object's field values (read through `valueOf`) satisfy every requirement. */
export function matchFields(requirements: FieldRequirement[], valueOf: (field: string) => string): boolean {
  return requirements.every((requirement) =>
    requirement.op === '=' ? valueOf(requirement.field) === requirement.value : valueOf(requirement.field) !== requirement.value,
  );
}

/** The name a field selector pins down exactly (`metadata.name=x`), as the RBAC request info uses. */
export function exactName(requirements: FieldRequirement[]): string | undefined {
  return requirements.find((requirement) => requirement.field === 'metadata.name' && requirement.op === '=')?.value;
}
