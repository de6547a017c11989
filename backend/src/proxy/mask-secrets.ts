/**
 * What the history writer and the proxy's answer get instead of a secret's value: the values of
 * secrets the store substituted into a request are replaced by a marker wherever they appear
 * (URL, headers, bodies, redirects), as sent and as percent-encoded.
 */

export const SECRET_MASK = '[secret]';

export function maskSecretValues<T>(value: T, secrets: readonly string[]): T {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret containing another is masked whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (!ordered.length) return value;
  const mask = (item: unknown): unknown => {
    if (typeof item === 'string') return ordered.reduce((text, secret) => (text.includes(secret) ? text.split(secret).join(SECRET_MASK) : text), item);
    if (Array.isArray(item)) return item.map(mask);
    if (typeof item === 'object' && item !== null && !Buffer.isBuffer(item)) return Object.fromEntries(Object.entries(item).map(([key, field]) => [key, mask(field)]));
    return item;
  };
  return mask(value) as T;
}
