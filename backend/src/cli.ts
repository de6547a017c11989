/** `api-store --server`: the store headless, for CI and scripts. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createLaunchToken } from './auth/local-token.js';
import { configSource, parseServerArgs, serverHelp, UsageError } from './cli-args.js';
import { parseConfig } from './config.js';
import { runAdminCommand } from './cli-admin.js';
import { CommandFailed, runBackupCommand } from './cli-backup.js';
import { runRotateKeyCommand } from './cli-secrets.js';
import { BackupFileError } from './backup/format.js';
import { RestoreTargetError } from './backup/restore.js';
import { UntrustedPathError, writePrivateFile } from './data-dir.js';
import { loadCertificate } from './lan/tls.js';
import { createLogger } from './logger.js';
import { startStoreWhileLoading } from './process/start-store.js';
import { StoreOpenError, StoreUnavailableError } from './store/open-errors.js';

function fail(message: string, code = 1): never {
  process.stderr.write(`api-store: ${message}\n`);
  process.exit(code);
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

async function main(): Promise<void> {
  // Everything this process creates (LevelDB's files included) is the user's alone.
  process.umask(0o077);
  let args;
  try {
    if (process.argv[2] === 'admin') {
      await runAdminCommand(process.argv.slice(3), { env: process.env, readPassword: readStdin, stdout: (text) => process.stdout.write(text) });
      return;
    }
    if (process.argv[2] === 'run') {
      // Like the server, the runner's store and proxy load for this command only.
      const { runProjectCommand } = await import('./cli-run.js');
      process.exitCode = await runProjectCommand(process.argv.slice(3), { env: process.env, stdout: (text) => process.stdout.write(text) });
      return;
    }
    if (process.argv[2] === 'import' || process.argv[2] === 'export') {
      // The import parsers and the exporters (Postman's SDK among them) load for these commands only, not with the server.
      const { describeError, runExportCommand, runImportCommand } = await import('./cli-transfer.js');
      const transfer = process.argv[2] === 'import' ? runImportCommand : runExportCommand;
      await transfer(process.argv.slice(3), { env: process.env, stdout: (text) => process.stdout.write(text) }).catch((error: unknown) => {
        if (error instanceof UsageError) throw error;
        fail(describeError(error));
      });
      return;
    }
    if (process.argv[2] === 'rotate-key') {
      process.exitCode = await runRotateKeyCommand(process.argv.slice(3), { env: process.env, stdout: (text) => process.stdout.write(text) });
      return;
    }
    if (['backup', 'restore', 'verify', 'copy-storage'].includes(process.argv[2])) {
      process.exitCode = await runBackupCommand(process.argv[2], process.argv.slice(3), { env: process.env, stdout: (text) => process.stdout.write(text) });
      return;
    }
    args = parseServerArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof StoreOpenError || error instanceof StoreUnavailableError || error instanceof BackupFileError || error instanceof RestoreTargetError || error instanceof CommandFailed || error instanceof UntrustedPathError) fail(error.message);
    if (error instanceof UsageError) fail(`${error.message}\n\n${process.argv[2] === 'run' ? (await import('./cli-run.js')).runHelp : serverHelp}`, 2);
    throw error;
  }
  if (args.help) {
    process.stdout.write(serverHelp);
    return;
  }
  if (!args.server) fail(`nothing to do.\n\n${serverHelp}`, 2);
  for (const warning of args.warnings) process.stderr.write(`api-store: warning: ${warning}\n`);

  const tokenFromEnv = process.env.API_STORE_TOKEN;
  const parsed = parseConfig({ ...args.config, token: tokenFromEnv ?? createLaunchToken() });
  if (!parsed.success) {
    fail(parsed.error.issues.map((i) => `${configSource(i.path)}: ${i.message}`).join('\n'), 2);
  }
  const config = parsed.data;
  let running;
  try {
    running = await startStoreWhileLoading(config, createLogger(config.logLevel));
  } catch (error) {
    if (error instanceof StoreOpenError) fail(error.message);
    fail(`the store could not start: ${(error as Error).message}`);
  }

  for (const warning of running.warnings) process.stderr.write(`api-store: error: ${warning}\n`);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Multi-user: teammates sign in, so there is no launch token to hand out.
  const multiUser = config.mode === 'multi-user';
  const tls = multiUser && !config.insecureHttp;
  const url = `${tls ? 'https' : 'http'}://${host}:${running.port}${config.prefix}`;
  const infoFile = join(config.dataDir, 'server.json');
  const token = tokenFromEnv || multiUser ? {} : { token: config.token };
  await writePrivateFile(infoFile, JSON.stringify({ url, pid: process.pid, ...token }, null, 2) + '\n');
  process.stdout.write(`api-store listening on ${url}\n`);
  if (multiUser) {
    process.stdout.write(`mode: multi-user, sign in with POST ${config.prefix}/sessions\n`);
    if (tls) process.stdout.write(`certificate SHA-256 fingerprint: ${(await loadCertificate(config.dataDir)).fingerprint}\n`);
  } else {
    process.stdout.write(tokenFromEnv ? 'token: from API_STORE_TOKEN\n' : `token: in ${infoFile}\n`);
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running.stop();
    await rm(infoFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// Not a top-level await: the build is CommonJS (process/code-cache.ts). A rejection still ends the process with its error.
void main();
