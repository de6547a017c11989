import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

/**
 * The renderer's pages are served from `app://renderer/…` rather than file://, so they have a
 * real origin (which the IPC sender check and the store's CORS allowlist name) and cannot read
 * arbitrary files.
 */
export const appScheme = { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } };
export const appHost = 'renderer';
export const rendererUrl = `app://${appHost}/index.html`;

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * The renderer's policy, sent with every `app://` response: a `<meta>` tag covers only HTML and
 * cannot say `frame-ancestors`. Pages talk only to the store on loopback.
 */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src http://127.0.0.1:* ws://127.0.0.1:*; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function respond(body: BodyInit, status: number, type: string): Response {
  return new Response(body, { status, headers: { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': contentSecurityPolicy } });
}

const notFound = () => respond('Not found', 404, 'text/plain');

/** The file a URL path names, or undefined for a malformed one (a stray `%`). */
function decodedPath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return undefined;
  }
}

/** Answers one `app://` request with a file under `root`; nothing outside `root` is reachable. */
export async function serveAppFile(requestUrl: string, root: string): Promise<Response> {
  const url = URL.canParse(requestUrl) ? new URL(requestUrl) : undefined;
  const path = url && decodedPath(url.pathname);
  if (!url || url.host !== appHost || path === undefined) return notFound();
  const base = resolve(root);
  const file = resolve(base, `.${path}`);
  const type = contentTypes[extname(file)];
  if (!file.startsWith(base + sep) || !type) return notFound();
  try {
    return respond(await readFile(file), 200, type);
  } catch {
    return notFound();
  }
}
