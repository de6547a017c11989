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

const notFound = () => new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain' } });

/** Answers one `app://` request with a file under `root`; nothing outside `root` is reachable. */
export async function serveAppFile(requestUrl: string, root: string): Promise<Response> {
  const url = new URL(requestUrl);
  if (url.host !== appHost) return notFound();
  const base = resolve(root);
  const file = resolve(base, `.${decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)}`);
  const type = contentTypes[extname(file)];
  if (!file.startsWith(base + sep) || !type) return notFound();
  try {
    return new Response(await readFile(file), { headers: { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' } });
  } catch {
    return notFound();
  }
}
