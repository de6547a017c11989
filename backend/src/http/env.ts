import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HttpBindings } from '@hono/node-server';
import type { Caller } from '../auth/caller.js';
import type { ShellState } from './shell.js';

/** Hono's typing of what middleware put on the context for routes. */
export interface AppEnv {
  /** @hono/node-server's: Node's request (`incoming`), which the shell reads bodies from. */
  Bindings: HttpBindings;
  Variables: RequestIdVariables & {
    caller: Caller;
    /** The hard shell's state of this request (shell.ts). */
    shell: ShellState;
    /** A HAR import's body, left unread by the shell for the route to stream (shell.ts). */
    harBody?: AsyncIterable<Buffer>;
    /** A JSON body as the shell parsed it (shell.ts), for the route's validation. */
    jsonBody?: { value: unknown };
  };
}

/** The router every resource file registers its routes on (paths below the prefix). */
export type Api = OpenAPIHono<AppEnv>;

/**
 * A request header (`name` in lower case) from Node's parsed headers: Hono's `c.req.header` makes
 * the adapter build a Fetch `Headers` of every header for the first one read. Without a Node
 * request (a request made in-process), Hono's.
 */
export function headerOf(c: Context<AppEnv>, name: string): string | undefined {
  const incoming = c.env?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sets a response header on Node's response, where the adapter merges it into the headers it
 * writes: a header set with `c.header` puts the response on Hono's `Headers` path. A header the
 * route's response sets as well keeps the route's value. Without a Node response (an upgrade or a
 * request made in-process), on Hono's response.
 */
export function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  const outgoing = c.env?.outgoing;
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}
