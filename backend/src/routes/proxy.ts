import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import type { Services } from '../http/services.js';
import { createRequestSender } from '../proxy/send-request.js';
import { createRoute, jsonBody, jsonResponse } from '../http/openapi.js';

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name');
const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'header values cannot contain line breaks');

const ProxyRequest = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    method: z.string().regex(/^[A-Za-z]{1,20}$/).transform((m) => m.toUpperCase()).default('GET'),
    headers: z
      .union([z.array(z.tuple([headerName, headerValue])), z.record(headerName, headerValue).transform((h) => Object.entries(h))])
      .default([]),
    body: z.string().optional(),
    bodyEncoding: z.enum(['utf8', 'base64']).default('utf8'),
    timeoutMs: z.number().int().min(1).max(300_000).default(30_000),
  })
  .openapi('ProxyRequest');

const ProxyResponse = z
  .object({
    status: z.number(),
    statusText: z.string(),
    headers: z.array(z.tuple([z.string(), z.string()])),
    body: z.string(),
    bodyEncoding: z.enum(['utf8', 'base64']),
    size: z.number(),
    timings: z.object({ start: z.number(), response: z.number(), total: z.number() }),
  })
  .openapi('ProxyResponse');

const proxy = createRoute({
  method: 'post',
  path: '/proxy',
  summary: "Sends an HTTP request for the app and returns the response with timings",
  request: jsonBody(ProxyRequest),
  responses: {
    200: jsonResponse(ProxyResponse, 'The target server answered'),
    403: { description: 'The target is a loopback or private address this caller may not reach (`proxy_target_forbidden`), or the Host or Origin is not allowed' },
    502: { description: 'The request failed: no connection, a timeout, or a response larger than the store accepts (`proxy_failed`)' },
  },
});

/**
 * The store's admin (the desktop user, or the token holder in server mode) may reach loopback
 * and private targets, as a local API client must; teammates on a shared store may not, unless
 * the operator allows it.
 */
export function registerProxy(api: Api, { config }: Services): void {
  const maxBytes = config.limits.mediaBytes;
  const forAdmin = createRequestSender({ allowPrivateTargets: true, maxBytes });
  const forTeammates = createRequestSender({ allowPrivateTargets: config.proxy.allowPrivateTargets, maxBytes });
  api.openapi(proxy, async (c) => {
    const send = c.get('caller').admin ? forAdmin : forTeammates;
    return c.json(await send(c.req.valid('json')), 200);
  });
}
