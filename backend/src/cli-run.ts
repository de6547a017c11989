/**
 * `api-store run PROJECT_KEY --environment NAME [--data-dir D | --url URL]`: runs a stored
 * project through the store's proxy, prints a line per request and a summary, and exits 1 when
 * a request failed (for CI). `--reporter junit --out FILE` also writes a JUnit XML report. With
 * `--url`, the store's token comes from API_STORE_TOKEN (never from the command line).
 */
import { writeFile } from 'node:fs/promises';
import { createLaunchToken } from './auth/local-token.js';
import { keyFileOf, parseCommandArgs, UsageError } from './cli-args.js';
import { configSchema, defaultDataDir } from './config.js';
import { createLogger } from './logger.js';
import type { RunLine, RunSummary } from './proxy/project-run.js';
import { startStore } from './server.js';

export const runHelp = `Usage: api-store run PROJECT_KEY [options]

  --environment NAME   the project's environment (key or name)
  --data-dir DIR       run against the store in DIR (started for the run; default: the usual data dir)
  --url URL            run against a running store (its API base, e.g. http://127.0.0.1:8080/v1);
                       the token comes from API_STORE_TOKEN
  --iterations N       run the project N times
  --bail               stop at the first failure
  --reporter junit     also write a JUnit XML report (needs --out)
  --out FILE           where the report goes
`;

export interface RunCommandIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
}

function parseRunArgs(argv: string[]) {
  const { values, positionals } = parseCommandArgs(argv, {
    environment: { type: 'string' },
    'data-dir': { type: 'string' },
    url: { type: 'string' },
    iterations: { type: 'string' },
    bail: { type: 'boolean', default: false },
    reporter: { type: 'string' },
    out: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one PROJECT_KEY');
  if (values.url && values['data-dir']) throw new UsageError('--url and --data-dir exclude each other');
  if (values.reporter !== undefined && values.reporter !== 'junit') throw new UsageError(`unknown reporter "${values.reporter}" (known: junit)`);
  if (values.reporter && !values.out) throw new UsageError('--reporter junit needs --out FILE');
  const iterations = values.iterations === undefined ? undefined : Number(values.iterations);
  if (iterations !== undefined && !(Number.isInteger(iterations) && iterations >= 1)) throw new UsageError('--iterations must be a whole number from 1');
  return { pid: positionals[0], ...values, iterations };
}

const xmlEscape = (text: string) => text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

/** The run as a JUnit report: one test suite, one test case per request sent. */
export function junitReport(pid: string, lines: RunLine[], summary: RunSummary): string {
  const cases = lines.map(({ name, iteration, result }) => {
    const time = (result.total / 1000).toFixed(3);
    const failure = result.error
      ? `<failure message="${xmlEscape(result.error.code)}" type="${xmlEscape(result.error.code)}">${xmlEscape(result.error.message)}</failure>`
      : (result.response?.status ?? 0) >= 400
        ? `<failure message="HTTP ${result.response?.status}" type="status">${xmlEscape(`${result.request.method} ${result.request.url}`)}</failure>`
        : '';
    return `    <testcase classname="${xmlEscape(pid)}" name="${xmlEscape(iteration > 1 ? `${name} (${iteration})` : name)}" time="${time}">${failure}</testcase>`;
  });
  const attributes = `name="${xmlEscape(pid)}" tests="${lines.length}" failures="${summary.failures}" time="${(summary.total / 1000).toFixed(3)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${attributes}>\n  <testsuite ${attributes}>\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

function progressLine({ name, result }: RunLine): string {
  const took = `${Math.round(result.total)} ms`;
  if (result.error) return `✗ ${name}  ${result.error.code}: ${result.error.message}  ${took}\n`;
  const status = result.response?.status ?? 0;
  return `${status >= 400 ? '✗' : '✓'} ${name}  ${status}  ${took}\n`;
}

/** Runs the command and returns the exit code: 0 when every request succeeded, 1 otherwise. */
export async function runProjectCommand(argv: string[], io: RunCommandIo): Promise<number> {
  const args = parseRunArgs(argv);
  let baseUrl: string;
  let token: string;
  let stop = async () => {};
  if (args.url) {
    if (!io.env.API_STORE_TOKEN) throw new UsageError('--url needs the store token in API_STORE_TOKEN');
    baseUrl = args.url.replace(/\/+$/, '');
    token = io.env.API_STORE_TOKEN;
  } else {
    token = createLaunchToken();
    const config = configSchema.parse({ dataDir: args['data-dir'] ?? defaultDataDir(io.env), token, logLevel: 'silent', secrets: keyFileOf(undefined, io.env) });
    const running = await startStore(config, createLogger('silent'));
    baseUrl = `http://127.0.0.1:${running.port}${config.prefix}`;
    stop = () => running.stop();
  }
  try {
    const response = await fetch(`${baseUrl}/proxy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'Core#HttpProject', pid: args.pid, options: { environment: args.environment, bail: args.bail, iterations: args.iterations } }),
    });
    if (!response.ok || !response.body) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      io.stdout(`The store refused the run: ${response.status} ${problem.detail ?? ''}\n`);
      return 1;
    }
    const lines: RunLine[] = [];
    let summary: RunSummary | undefined;
    let pending = '';
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      let end;
      while ((end = pending.indexOf('\n')) >= 0) {
        const line = JSON.parse(pending.slice(0, end)) as RunLine | RunSummary;
        pending = pending.slice(end + 1);
        if (line.type === 'summary') summary = line;
        else {
          lines.push(line);
          io.stdout(progressLine(line));
        }
      }
    }
    if (!summary) {
      io.stdout('The run ended without a summary.\n');
      return 1;
    }
    const classes = Object.entries(summary.byStatusClass).map(([statusClass, count]) => `${count} × ${statusClass}`);
    io.stdout(`${summary.requests} requests${classes.length ? ` (${classes.join(', ')})` : ''}, ${summary.failures} failed, ${Math.round(summary.total)} ms${summary.bailed ? ', stopped at the first failure' : ''}\n`);
    if (args.reporter === 'junit' && args.out) await writeFile(args.out, junitReport(args.pid, lines, summary));
    return summary.failures > 0 ? 1 : 0;
  } finally {
    await stop();
  }
}
