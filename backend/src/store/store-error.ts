/**
 * The store's failures, with the stable code clients switch on. The store knows no HTTP: the codes
 * are the same strings as the wire registry (http/error-codes.ts), and the HTTP edge turns a
 * StoreError into its status and problem+json body (http/problem.ts: a code missing from the
 * registry fails to compile there).
 */
export type StoreErrorCode =
  // files, sharing and trash
  | 'file_not_found'
  | 'parent_not_found'
  | 'parent_not_space'
  | 'parent_gone'
  | 'key_conflict'
  | 'media_not_found'
  | 'protected_field'
  | 'invalid_patch'
  | 'version_conflict'
  | 'contents_not_json'
  | 'invalid_project_document'
  | 'invalid_certificate'
  | 'forbidden_role'
  // document limits
  | 'payload_too_large'
  | 'too_deep'
  // accounts
  | 'username_taken'
  | 'user_not_found'
  | 'invalid_invite'
  // history and app data
  | 'history_entry_not_found'
  | 'app_record_not_found'
  // import
  | 'import_unsupported_format'
  | 'import_failed'
  // secrets
  | 'secrets_locked'
  | 'rotation_unavailable';

export interface FieldError {
  path: string;
  message: string;
}

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly errors?: FieldError[];
  /** Facts for the client beyond the message, such as the current version on a conflict. */
  readonly extra?: Record<string, unknown>;

  constructor(code: StoreErrorCode, detail: string, options: { errors?: FieldError[]; extra?: Record<string, unknown> } = {}) {
    super(detail);
    this.name = 'StoreError';
    this.code = code;
    this.errors = options.errors;
    this.extra = options.extra;
  }
}
