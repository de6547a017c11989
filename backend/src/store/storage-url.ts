/** PostgreSQL storage URLs, without loading the PostgreSQL client. */

export const isStorageUrl = (value: string): boolean => /^postgres(ql)?:\/\//i.test(value);

/** The URL with its password replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
