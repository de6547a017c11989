import { measure, ratio, row, startBenchProcess, tableHeader } from '../load.js';

/**
 * The cost of secrets at rest, measured against the same request without secrets in the same
 * run (the "baseline" column here is api-store itself): a PUT of a project whose 10 environment
 * variables are secret (10 values sealed per request) against one whose 10 are not, a PATCH of
 * a project holding 10 sealed values (the markers kept, nothing sealed), and a read with
 * `reveal=secrets` (10 values opened) against a plain read.
 */

const SECONDS = 5;
const VARIABLES = 10;

const project = (secret: boolean) => ({
  kind: 'Core#HttpProject',
  info: { name: secret ? 'with secrets' : 'without secrets' },
  items: [],
  definitions: {
    environments: [{
      kind: 'Core#Environment', key: 'env', info: { name: 'prod' },
      variables: Array.from({ length: VARIABLES }, (_, i) => ({ kind: 'Core#Property', name: `v${i}`, type: 'string', value: `value-${i}-0123456789abcdef`, ...(secret ? { secret: true } : {}) })),
    }],
  },
});

export async function run(): Promise<string> {
  const server = await startBenchProcess<{ baseUrl: string; token: string }>(new URL('../files-server.ts', import.meta.url));
  try {
    const { baseUrl, token } = server.info;
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const create = async (secret: boolean) =>
      ((await (await fetch(`${baseUrl}/files?alt=media`, { method: 'POST', headers, body: JSON.stringify({ meta: { kind: 'Core#HttpProject', info: { name: 'p' } }, media: project(secret) }) })).json()) as { key: string }).key;
    const plain = await create(false);
    const sealed = await create(true);
    const load = (method: string, body?: unknown) => ({ method: method as 'POST', headers, connections: 10, seconds: SECONDS, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const lines: string[] = [];
    const putPlain = await measure(`${baseUrl}/files/${plain}?alt=media`, load('PUT', project(false)));
    const putSealed = await measure(`${baseUrl}/files/${sealed}?alt=media`, load('PUT', project(true)));
    lines.push(row(`PUT ?alt=media, ${VARIABLES} secret variables sealed vs none`, putSealed, putPlain));
    const patch = [{ op: 'replace', path: '/info/name', value: 'renamed' }];
    const patchPlain = await measure(`${baseUrl}/files/${plain}?alt=media`, load('PATCH', patch));
    const patchSealed = await measure(`${baseUrl}/files/${sealed}?alt=media`, load('PATCH', patch));
    lines.push(row(`PATCH ?alt=media, ${VARIABLES} sealed values kept vs none`, patchSealed, patchPlain));
    const read = await measure(`${baseUrl}/files/${sealed}?alt=media`, load('GET'));
    const reveal = await measure(`${baseUrl}/files/${sealed}?alt=media&reveal=secrets`, load('GET'));
    lines.push(row(`GET ?alt=media&reveal=secrets (${VARIABLES} opened) vs GET ?alt=media`, reveal, read));
    return [
      `### Secrets at rest (10 connections, ${SECONDS} s each; "baseline" is api-store without secrets)`,
      '',
      tableHeader,
      ...lines,
      '',
      `**PUT ${ratio(putSealed.rps, putPlain.rps).toFixed(2)}×, PATCH ${ratio(patchSealed.rps, patchPlain.rps).toFixed(2)}×, reveal ${ratio(reveal.rps, read.rps).toFixed(2)}× the same request without secrets.**`,
      '',
    ].join('\n');
  } finally {
    await server.stop();
  }
}
