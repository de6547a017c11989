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
  validation_failed: { status: 400, title: 'Validation Failed' },
  invalid_cursor: { status: 400, title: 'Invalid Cursor' },
  internal_error: { status: 500, title: 'Internal Server Error' },
  // authentication and request origin
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden_host: { status: 403, title: 'Forbidden Host' },
  forbidden_origin: { status: 403, title: 'Forbidden Origin' },
  forbidden_role: { status: 403, title: 'Forbidden' },
} as const;

export type ErrorCode = keyof typeof errorCodes;
