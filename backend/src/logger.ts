import pino, { type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type Logger = Record<Exclude<LogLevel, 'silent'>, (msg: string, fields?: Record<string, unknown>) => void> & {
  /** Resolves when every line logged so far has been handed to the OS; call it before exiting. */
  flush(): Promise<void>;
};

/**
 * Fields that hold a credential wherever they appear (one level deep too): redacted even if a
 * caller passes one by mistake.
 */
const redactedPaths = ['authorization', 'token', 'password', 'cookie', 'secret', 'clientSecret', 'headers.authorization', 'headers.cookie'].flatMap(
  (path) => [path, `*.${path}`],
);

type AsyncDestination = ReturnType<typeof pino.destination>;

let stderr: AsyncDestination | undefined;

/**
 * Standard error, written asynchronously and in blocks of about 4 KiB (a request costs no write
 * of its own); whatever is buffered goes out within 250 ms or on `flush`. One per process, so
 * that lines of several loggers do not interleave.
 */
function stderrDestination(): AsyncDestination {
  return (stderr ??= pino.destination({ dest: 2, sync: false, minLength: 4096, periodicFlush: 250 }));
}

/**
 * pino, one JSON object per line (`time` ISO 8601, `level` by name, `msg`). Callers pass fields
 * explicitly and nothing here reads requests; credential fields are redacted all the same.
 * `write` receives each line synchronously instead (tests read the log that way).
 */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const boom = write ? undefined : stderrDestination();
  const destination: DestinationStream = write ? { write } : boom!;
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    destination,
  );
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => logger[lvl](fields ?? {}, msg);
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    flush: () => new Promise<void>((done) => (boom ? boom.flush(() => done()) : done())),
  };
}
