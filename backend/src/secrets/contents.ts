import { randomBytes } from 'node:crypto';
import { HTTP_PROJECT_KIND, kinds } from '../projects/project-document.js';
import { fileSections, SEP } from '../store/file-records.js';
import type { Storage } from '../store/storage.js';
import type { Mutation } from '../store/store.js';
import { isSecretMarker, type SecretMarker } from './marker.js';
import type { Secrets } from './secrets.js';

export { isSecretMarker, secretMarkerSchema, type SecretMarker } from './marker.js';

/**
 * Secret fields of files' contents. A file kind declares which of its contents' fields are
 * secret (`secretFieldsByKind`); before contents are written, the value of each such field is
 * sealed into `file-secrets` (`{fileKey}\0{secret id}` → sealed value, in the write's batch) and
 * the document keeps only a marker, `{"$secret": id, "set": true}`. So the contents, their
 * revisions, the change feed, events, exports and backups hold markers; only `file-secrets`
 * holds the values, sealed. A marker sent back keeps the sealed value it names (a client's
 * round trip erases nothing); a marker this file does not hold becomes an unset secret.
 */

const markerOf = (id: string, set: boolean): SecretMarker => ({ $secret: id, set });

/** A field that may hold a secret: `container[field]`, secret or not (a variable whose `secret` flag was cleared). */
export interface SecretField {
  container: Record<string, unknown>;
  field: string;
  secret: boolean;
}

/** The fields of a kind's contents that may hold secrets; called on a copy, which the caller changes in place. */
export type SecretFields = (document: unknown) => SecretField[];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const objectsIn = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
const fieldOf = (container: unknown, field: string, secret = true): SecretField[] => (isObject(container) && field in container ? [{ container, field, secret }] : []);

/** Core's client certificate: the private key and the passphrases; a PKCS#12 file holds its key in `cert.data`. */
export const certificateSecretFields: SecretFields = (certificate) => {
  if (!isObject(certificate)) return [];
  return [
    ...fieldOf(certificate.cert, 'passphrase'),
    ...fieldOf(certificate.certKey, 'data'),
    ...fieldOf(certificate.certKey, 'passphrase'),
    ...(certificate.type === 'p12' ? fieldOf(certificate.cert, 'data') : []),
  ];
};

/** A project's environment variables (secret when marked `secret: true`) and its embedded certificates. */
export const projectSecretFields: SecretFields = (document) => {
  if (!isObject(document) || !isObject(document.definitions)) return [];
  const variables = objectsIn(document.definitions.environments).flatMap((environment) => objectsIn(environment.variables));
  return [
    ...variables.flatMap((variable) => fieldOf(variable, 'value', variable.secret === true)),
    ...objectsIn(document.definitions.certificates).flatMap(certificateSecretFields),
  ];
};

/** Which kinds' contents hold secrets. A new kind adds one entry here. */
export const secretFieldsByKind: ReadonlyMap<string, SecretFields> = new Map([
  [HTTP_PROJECT_KIND, projectSecretFields],
  [kinds.certificate, certificateSecretFields],
]);

export const secretKey = (fileKey: string, id: string) => `${fileKey}${SEP}${id}`;
/** What a sealed value is bound to: its file and its id, so that it opens nowhere else. */
const bindingOf = (fileKey: string, id: string) => [fileKey, id];

export interface SealedContents {
  /** The document to store: markers in place of secret values. */
  document: unknown;
  /** Whether the document differs from the one given (a value was sealed or opened, a marker rewritten): a patch that was sent no longer describes it. */
  rewritten: boolean;
}

/**
 * Seals the secret fields of `document` (a copy is changed, never the caller's) and stages the
 * `file-secrets` writes and removals in `m`. `stored` maps the ids of the file's sealed values
 * to them (the values only where a field no longer secret must be opened).
 */
export function sealSecretFields(secrets: Secrets, m: Mutation, fileKey: string, kind: string, document: unknown, stored: ReadonlyMap<string, string>): SealedContents {
  const fields = secretFieldsByKind.get(kind);
  if (!fields || !isObject(document)) return { document, rewritten: false };
  const dropStale = (kept: ReadonlySet<string>) => {
    for (const id of stored.keys()) if (!kept.has(id)) m.del(fileSections.secrets, secretKey(fileKey, id));
  };
  // Most writes (a round trip of markers) change no secret: the document is kept as it is, uncopied.
  const found = fields(document);
  if (!found.some((field) => needsRewrite(field, stored))) {
    dropStale(new Set(found.flatMap(({ container, field, secret }) => (secret && isSecretMarker(container[field]) ? [(container[field] as SecretMarker).$secret] : []))));
    return { document, rewritten: false };
  }
  const copy = structuredClone(document);
  const kept = new Set<string>();
  for (const { container, field, secret } of fields(copy)) {
    const value = container[field];
    if (isSecretMarker(value)) {
      const sealed = stored.get(value.$secret);
      if (!secret) {
        // No longer secret: the value it held is the variable's value again.
        if (sealed !== undefined) container[field] = secrets.open(sealed, bindingOf(fileKey, value.$secret));
        continue;
      }
      if (sealed !== undefined) kept.add(value.$secret);
      container[field] = markerOf(value.$secret, sealed !== undefined);
    } else if (secret && value !== undefined) {
      const id = randomBytes(12).toString('base64url');
      m.put(fileSections.secrets, secretKey(fileKey, id), secrets.seal(value, bindingOf(fileKey, id)));
      kept.add(id);
      container[field] = markerOf(id, true);
    }
  }
  dropStale(kept);
  return { document: copy, rewritten: true };
}

/** Whether a field's value must change before it is stored: a value to seal, a marker to open or to put in its exact shape. */
function needsRewrite({ container, field, secret }: SecretField, stored: ReadonlyMap<string, string>): boolean {
  const value = container[field];
  if (!isSecretMarker(value)) return secret && value !== undefined;
  const set = stored.has(value.$secret);
  if (!secret) return set;
  return Object.keys(value).length !== 2 || value.set !== set;
}

/**
 * `sealSecretFields` for a file's contents as they are replaced. The sealed values a file holds
 * are those its stored contents mark as set (every write keeps the two equal), so their ids come
 * from `previous` without a read; only values to open (a marker in a field no longer secret) are read.
 */
export async function sealContents(secrets: Secrets, storage: Storage, m: Mutation, fileKey: string, kind: string, document: unknown, previous: unknown): Promise<SealedContents> {
  const fields = secretFieldsByKind.get(kind);
  if (!fields) return { document, rewritten: false };
  const held = new Map<string, string>();
  for (const { container, field, secret } of fields(previous)) {
    const value = container[field];
    if (secret && isSecretMarker(value) && value.set) held.set(value.$secret, '');
  }
  const toOpen = fields(document).flatMap(({ container, field, secret }) => {
    const value = container[field];
    return !secret && isSecretMarker(value) && held.has(value.$secret) ? [value.$secret] : [];
  });
  if (toOpen.length) {
    const sealed = await storage.getMany<string>(fileSections.secrets, toOpen.map((id) => secretKey(fileKey, id)));
    toOpen.forEach((id, i) => (sealed[i] === undefined ? held.delete(id) : held.set(id, sealed[i]!)));
  }
  return sealSecretFields(secrets, m, fileKey, kind, document, held);
}

export interface RevealedContents {
  document: unknown;
  /** The values put in place of markers (for masking them where the request is recorded). */
  values: unknown[];
}

/** The contents with every set secret's value in place of its marker; what cannot be opened throws `secrets_locked`. */
export async function revealContents(secrets: Secrets, storage: Storage, fileKey: string, kind: string, document: unknown): Promise<RevealedContents> {
  const fields = secretFieldsByKind.get(kind);
  if (!fields || !isObject(document)) return { document, values: [] };
  const copy = structuredClone(document);
  const marked = fields(copy).filter(({ container, field }) => isSecretMarker(container[field]) && (container[field] as SecretMarker).set);
  if (!marked.length) return { document, values: [] };
  // The markers name the values: one read of exactly those, no scan.
  const ids = marked.map(({ container, field }) => (container[field] as SecretMarker).$secret);
  const sealed = await storage.getMany<string>(fileSections.secrets, ids.map((id) => secretKey(fileKey, id)));
  const values: unknown[] = [];
  marked.forEach(({ container, field }, i) => {
    if (sealed[i] === undefined) return;
    container[field] = secrets.open(sealed[i]!, bindingOf(fileKey, ids[i]));
    values.push(container[field]);
  });
  return { document: copy, values };
}

/** The value of one secret of a file, by the id its marker names; undefined when the file holds no such secret. */
export async function openSecret(secrets: Secrets, storage: Storage, fileKey: string, id: string): Promise<unknown> {
  const sealed = await storage.get<string>(fileSections.secrets, secretKey(fileKey, id));
  return sealed === undefined ? undefined : secrets.open(sealed, bindingOf(fileKey, id));
}
