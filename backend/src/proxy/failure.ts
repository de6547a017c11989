/**
 * A proxied request's failure and the text check of bodies: kept apart from the sender so that
 * validating and preparing requests does not load undici (it loads with the first request sent).
 */

/** Why a request produced no response, as clients switch on it. */
export type ProxyErrorCode =
  | 'dns_failure'
  | 'connection_refused'
  | 'connection_failed'
  | 'tls_error'
  | 'timeout'
  | 'cancelled'
  | 'too_many_redirects'
  | 'target_forbidden'
  | 'response_too_large'
  | 'unknown_variable'
  | 'certificate_not_found'
  | 'invalid_request';

/** A failure of the proxied request itself (not of the call to the store): it becomes the result's `error`. */
export class ProxyFailure extends Error {
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text when it is valid UTF-8, else undefined (it then travels as base64). */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
