/**
 * A value as an error message quotes it after "got": its YAML kind, then the value, so
 * `leaseDuration: true` reads `got boolean true` and `port: "80"` reads `got string "80"` —
 * the kind is what the operator got wrong, and YAML hides it (`80` and `"80"` look alike).
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list ${shorten(JSON.stringify(value))}`;
  if (typeof value === 'object') return `a mapping ${shorten(JSON.stringify(value))}`;
  if (typeof value === 'string') return `string ${shorten(JSON.stringify(value))}`;
  if (value === undefined) return 'nothing';
  return `${typeof value} ${String(value)}`;
}

/** Keeps one problem on one line however large the offending value is. */
function shorten(text: string): string {
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}
