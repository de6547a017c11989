import { placementOfNewFile } from '../../store/files.js';
import { createHistory, deleteHistory, historyAccessOf, type HistoryInput } from '../../store/history.js';
import type { Store } from '../../store/store.js';
import { headersText } from '../project-builder.js';
import { isObject } from './detect.js';
import { harRequestOf, noRequest, pairsOf } from './har.js';
import type { ImportProgress } from './har-stream.js';
import { pointer, type Skipped } from './plan.js';

/**
 * A HAR into history: each entry, response included, becomes a history entry of the caller
 * (attached to the target space, if any). Entries are written in bounded batches as they are
 * read, each batch one storage batch; an import that fails part way removes the batches it wrote.
 */

export interface HarHistoryLimits {
  harImportBytes: number;
  jsonDepth: number;
  /** The most one history entry may take, as any body does (a larger response body is left out). */
  metadataBytes: number;
}

export interface HarHistoryReport {
  format: 'har-1.2';
  created: [];
  history: { entries: number };
  skipped: Skipped[];
}

/** A batch is written once it holds this many entries or this many bytes, whichever comes first. */
export const HISTORY_BATCH = { entries: 500, bytes: 4 * 1024 * 1024 };

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** A HAR entry as a history entry; the response body is left out (and reported) when it would make the entry too large. */
function historyInputOf(entry: unknown, index: number, space: string | undefined, limits: HarHistoryLimits, skipped: Skipped[]): { input: HistoryInput; bytes: number } | undefined {
  const request = harRequestOf(entry);
  if (!request || !isObject(entry)) {
    skipped.push({ location: pointer('log', 'entries', index), reason: noRequest });
    return undefined;
  }
  const started = Date.parse(str(entry.startedDateTime) ?? '');
  const startTime = Number.isFinite(started) ? started : Date.now();
  const response = isObject(entry.response) ? entry.response : undefined;
  const content = response && isObject(response.content) ? response.content : undefined;
  // Base64 bodies are binary: history keeps text.
  const body = content && content.encoding === undefined ? str(content.text) : undefined;
  const input: HistoryInput = {
    created: startTime,
    ...(space ? { space } : {}),
    log: {
      request: { url: request.url, method: request.method, headers: headersText(request.headers), ...(request.payload !== undefined ? { payload: request.payload } : {}), startTime },
      ...(response
        ? {
            response: {
              status: typeof response.status === 'number' ? response.status : 0,
              statusText: str(response.statusText) ?? '',
              headers: headersText(pairsOf(response.headers)),
              ...(body !== undefined ? { payload: body } : {}),
              ...(isObject(entry.timings) ? { timings: entry.timings } : {}),
              ...(typeof entry.time === 'number' ? { loadingTime: entry.time } : {}),
            },
          }
        : {}),
    },
  };
  let bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > limits.metadataBytes && input.log.response?.payload !== undefined) {
    delete input.log.response.payload;
    skipped.push({ location: pointer('log', 'entries', index, 'response', 'content', 'text'), reason: `The response body would take the history entry past ${limits.metadataBytes} bytes; it is left out.` });
    bytes = Buffer.byteLength(JSON.stringify(input));
  }
  if (bytes > limits.metadataBytes) {
    skipped.push({ location: pointer('log', 'entries', index), reason: `The entry takes more than ${limits.metadataBytes} bytes, the most a history entry may take.` });
    return undefined;
  }
  return { input, bytes };
}

export async function importHarToHistory(
  store: Store,
  user: string,
  space: string | undefined,
  bytes: AsyncIterable<Buffer>,
  limits: HarHistoryLimits,
  onProgress?: (progress: ImportProgress) => void,
): Promise<HarHistoryReport> {
  // Attaching entries to a space takes what adding files to it takes.
  await placementOfNewFile(store.storage, user, space);
  const access = historyAccessOf(store.storage, user);
  const skipped: Skipped[] = [];
  const written: string[] = [];
  let batch: HistoryInput[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (!batch.length) return;
    const entries = await createHistory(store, access, batch);
    for (const entry of entries) written.push(entry.key);
    batch = [];
    batchBytes = 0;
  };
  const { readHarStream } = await import('./har-stream.js');
  try {
    await readHarStream(bytes, { maxBytes: limits.harImportBytes, maxDepth: limits.jsonDepth, keepResponses: true, onProgress }, {
      creator: () => undefined,
      entry: (value, index) => {
        const mapped = historyInputOf(value, index, space, limits, skipped);
        if (!mapped) return;
        batch.push(mapped.input);
        batchBytes += mapped.bytes;
        if (batch.length >= HISTORY_BATCH.entries || batchBytes >= HISTORY_BATCH.bytes) return flush();
      },
    });
    await flush();
  } catch (error) {
    // Nothing is half-imported: the batches written so far go again, a batch at a time.
    for (let at = 0; at < written.length; at += HISTORY_BATCH.entries) await deleteHistory(store, access, written.slice(at, at + HISTORY_BATCH.entries));
    throw error;
  }
  return { format: 'har-1.2', created: [], history: { entries: written.length }, skipped };
}
