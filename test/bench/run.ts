/**
 * npm run bench [suite ...]: each suite starts its own servers (a raw node:http baseline and
 * api-store, each in its own process), loads both in the same run and prints a Markdown table.
 * Copy the output into RESULTS.md with the date and machine.
 */
import { cpus, totalmem } from 'node:os';

const suites: Record<string, () => Promise<{ run(): Promise<string> }>> = {
  start: () => import('./suites/start.js'),
  'store-info': () => import('./suites/store-info.js'),
  events: () => import('./suites/events.js'),
  'events-delivery': () => import('./suites/events-delivery.js'),
  files: () => import('./suites/files.js'),
  'files-cpu': () => import('./suites/files-cpu.js'),
  'patch-cpu': () => import('./suites/patch-cpu.js'),
  bodies: () => import('./suites/bodies.js'),
  history: () => import('./suites/history.js'),
  'history-write': async () => ({ run: (await import('./suites/history.js')).runWrites }),
  proxy: () => import('./suites/proxy.js'),
  search: () => import('./suites/search.js'),
  secrets: () => import('./suites/secrets.js'),
  postgres: () => import('./suites/postgres.js'),
};

const chosen = process.argv.slice(2);
const names = chosen.length ? chosen : Object.keys(suites);
const unknown = names.filter((name) => !suites[name]);
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
console.log(`## ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
for (const name of names) {
  const suite = await suites[name]();
  console.log(await suite.run());
}
