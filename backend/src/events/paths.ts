/**
 * The paths a socket can observe. A change lists the paths it is delivered on (`Change.paths`),
 * so matching is a set lookup; this module only decides which paths exist.
 */
const key = '[^/+=?#\\s]+';
const observable = new RegExp(`^/(files|history)$|^/files/${key}$|^/app/${key}/(projects|requests)$`);

export function isObservablePath(path: string): boolean {
  return observable.test(path);
}

/** The file key of a `/files/{key}` path, whose observer must be able to read that file. */
export function fileKeyOf(path: string): string | undefined {
  return path.startsWith('/files/') ? path.slice('/files/'.length) : undefined;
}
