/**
 * The one registry of problem codes. A code is part of the wire contract: clients switch on it,
 * so never rename one; add new codes here with their HTTP status and a default title.
 */
export const errorCodes = {
  // shell
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type' },
  payload_too_large: { status: 413, title: 'Payload Too Large' },
  malformed_json: { status: 400, title: 'Malformed JSON' },
  too_deep: { status: 400, title: 'JSON Nested Too Deeply' },
  malformed_request: { status: 400, title: 'Malformed Request' },
  headers_too_large: { status: 431, title: 'Request Header Fields Too Large' },
  request_timeout: { status: 408, title: 'Request Timeout' },
  validation_failed: { status: 400, title: 'Validation Failed' },
  invalid_cursor: { status: 400, title: 'Invalid Cursor' },
  internal_error: { status: 500, title: 'Internal Server Error' },
  too_many_requests: { status: 429, title: 'Too Many Requests' },
  /** The shared database (PostgreSQL) is out of reach; the store reconnects by itself. */
  store_unavailable: { status: 503, title: 'Store Unavailable' },
  // authentication and request origin
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden_host: { status: 403, title: 'Forbidden Host' },
  forbidden_origin: { status: 403, title: 'Forbidden Origin' },
  forbidden_role: { status: 403, title: 'Forbidden' },
  // accounts and sessions (multi-user)
  invalid_credentials: { status: 401, title: 'Invalid Credentials' },
  too_many_attempts: { status: 429, title: 'Too Many Attempts' },
  admin_only: { status: 403, title: 'Admin Only' },
  invalid_invite: { status: 400, title: 'Invalid Invite' },
  username_taken: { status: 409, title: 'User Name Taken' },
  user_not_found: { status: 404, title: 'User Not Found' },
  session_not_found: { status: 404, title: 'Session Not Found' },
  oidc_not_configured: { status: 404, title: 'OIDC Not Configured' },
  oidc_login_failed: { status: 401, title: 'OIDC Login Failed' },
  // files, sharing and trash
  file_not_found: { status: 404, title: 'File Not Found' },
  parent_not_found: { status: 404, title: 'Parent Not Found' },
  parent_not_space: { status: 400, title: 'Parent Is Not a Space' },
  parent_gone: { status: 409, title: 'Parent Gone' },
  key_conflict: { status: 409, title: 'Key Conflict' },
  media_not_found: { status: 404, title: 'Contents Not Found' },
  protected_field: { status: 400, title: 'Protected Field' },
  invalid_patch: { status: 400, title: 'Invalid Patch' },
  version_conflict: { status: 412, title: 'Version Conflict' },
  contents_not_json: { status: 409, title: 'Contents Are Not JSON' },
  invalid_project_document: { status: 400, title: 'Invalid Project Document' },
  invalid_certificate: { status: 400, title: 'Invalid Certificate' },
  // secrets
  secrets_locked: { status: 503, title: 'Secrets Locked' },
  rotation_unavailable: { status: 409, title: 'Key Rotation Unavailable' },
  // import and export
  import_unsupported_format: { status: 400, title: 'Unsupported Import Format' },
  import_failed: { status: 400, title: 'Import Failed' },
  export_unsupported: { status: 400, title: 'Export Not Supported' },
  // history and app data
  history_entry_not_found: { status: 404, title: 'History Entry Not Found' },
  app_record_not_found: { status: 404, title: 'App Record Not Found' },
  // events and the change feed
  invalid_command: { status: 400, title: 'Invalid Command' },
  resync_required: { status: 410, title: 'Resync Required' },
  upgrade_required: { status: 426, title: 'Upgrade Required' },
} as const;

export type ErrorCode = keyof typeof errorCodes;
