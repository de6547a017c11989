/**
 * undici (the proxy's HTTP client), loaded with import() on first use. Re-exported from a module of ours because a
 * CommonJS package imported directly with import() keeps only its default export once bundled.
 */
export { Agent, request } from 'undici';
