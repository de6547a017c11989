import type { RequestIdVariables } from 'hono/request-id';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HttpBindings } from '@hono/node-server';
import type { Caller } from '../auth/caller.js';

/** Hono's typing of what middleware put on the context for routes. */
export interface AppEnv {
  /** @hono/node-server's: Node's request (`incoming`), which the shell reads bodies from. */
  Bindings: HttpBindings;
  Variables: RequestIdVariables & {
    caller: Caller;
    /** A HAR import's body, left unread by the shell for the route to stream (shell.ts). */
    harBody?: AsyncIterable<Buffer>;
  };
}

/** The router every resource file registers its routes on (paths below the prefix). */
export type Api = OpenAPIHono<AppEnv>;
