import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorCodes } from './error-codes.js';
import { ApiError, problemBody } from './problem.js';

/**
 * Node's HTTP parser refuses some requests before the app sees them (a request line or headers
 * beyond the 16 KiB cap, bytes that are not HTTP, a request that took too long). Node answers
 * those with a bare status line; this answers them as problem+json like every other refusal,
 * under the same rule as Node's own handler: only on a connection that has not answered yet.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    if (socket.writable && socket.bytesWritten === 0 && error.code !== 'ECONNRESET') {
      const problem = refusal(error.code);
      const body = JSON.stringify(problemBody(problem, ''));
      socket.write(
        `HTTP/1.1 ${problem.status} ${errorCodes[problem.code].title}\r\n` +
          'Content-Type: application/problem+json\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Cache-Control: no-store\r\n' +
          "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n" +
          'X-Content-Type-Options: nosniff\r\n' +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy();
  });
}

function refusal(parserCode: string | undefined): ApiError {
  if (parserCode === 'HPE_HEADER_OVERFLOW') return new ApiError('headers_too_large', 'The request line and headers are larger than this store accepts.');
  if (parserCode === 'ERR_HTTP_REQUEST_TIMEOUT') return new ApiError('request_timeout', 'The request took too long to arrive.');
  return new ApiError('malformed_request', 'The request could not be read as HTTP.');
}
