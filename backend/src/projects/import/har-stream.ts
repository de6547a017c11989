import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parser } from 'stream-json';
import Assembler from 'stream-json/assembler.js';
import ignore from 'stream-json/filters/ignore.js';
import type { Token } from 'stream-json/parser.js';
import { checkDepth } from '../../store/document-limits.js';
import { StoreError } from '../../store/store-error.js';
import { importFailed, pointer } from './plan.js';

/**
 * A HAR read from its bytes with a streaming JSON parser: `log.creator` and each of `log.entries`
 * are assembled one at a time and handed over, so a HAR of any size is held one entry at a time.
 * Response bodies, the bulk of a browser's HAR, are dropped as they stream by unless asked for.
 * Loaded with the first HAR import (see `startsLikeHar` in detect.ts for how one is told apart).
 */

export interface HarVisitor {
  creator(value: unknown): void;
  /** May return a promise: reading waits for it (a batch being written). */
  entry(value: unknown, index: number): void | Promise<void>;
}

/** How far a long import has read. */
export interface ImportProgress {
  entries: number;
  bytes: number;
}

export interface HarStreamOptions {
  /** More bytes than this are refused with `payload_too_large`. */
  maxBytes: number;
  maxDepth: number;
  keepResponses: boolean;
  /** Called after every `PROGRESS_ENTRIES` entries handed over. */
  onProgress?: (progress: ImportProgress) => void;
}

export const PROGRESS_ENTRIES = 1000;

interface Frame {
  array: boolean;
  /** The key of the next value: the last key read in an object, the next index in an array. */
  next: string | number;
}

const valueStarts = new Set(['startObject', 'startArray', 'stringValue', 'numberValue', 'nullValue', 'trueValue', 'falseValue']);

/** Walks the token stream, assembling the values at `log.creator` and `log.entries.N`. */
class HarTokens {
  private readonly frames: Frame[] = [];
  private assembling?: { assembler: Assembler; index?: number };
  entriesSeen = false;
  entryCount = 0;

  constructor(
    private readonly visitor: HarVisitor,
    private readonly maxDepth: number,
  ) {}

  /** Where the reader is, as a JSON pointer. */
  location(): string {
    return pointer(...this.frames.map((frame) => frame.next));
  }

  consume(token: Token): void | Promise<void> {
    if (this.assembling) return this.assemble(token);
    if (token.name === 'keyValue') {
      this.frames.at(-1)!.next = token.value;
      return;
    }
    if (token.name === 'endObject' || token.name === 'endArray') {
      this.frames.pop();
      const parent = this.frames.at(-1);
      if (parent?.array) parent.next = (parent.next as number) + 1;
      return;
    }
    if (!valueStarts.has(token.name)) return;
    const path = this.frames.map((frame) => frame.next);
    if (path.length === 2 && path[0] === 'log' && path[1] === 'creator') {
      this.assembling = { assembler: new Assembler() };
      return this.assemble(token);
    }
    if (path.length === 3 && path[0] === 'log' && path[1] === 'entries' && this.frames[2].array) {
      this.assembling = { assembler: new Assembler(), index: path[2] as number };
      return this.assemble(token);
    }
    if (token.name === 'startObject' || token.name === 'startArray') {
      if (path.length === 2 && path[0] === 'log' && path[1] === 'entries' && token.name === 'startArray') this.entriesSeen = true;
      if (this.frames.length >= this.maxDepth) throw new StoreError('too_deep', `Arrays and objects may nest at most ${this.maxDepth} levels deep.`);
      this.frames.push({ array: token.name === 'startArray', next: token.name === 'startArray' ? 0 : '' });
      return;
    }
    const parent = this.frames.at(-1);
    if (parent?.array) parent.next = (parent.next as number) + 1;
  }

  private assemble(token: Token): void | Promise<void> {
    const { assembler, index } = this.assembling!;
    assembler.consume(token);
    if (!assembler.done) return;
    this.assembling = undefined;
    const parent = this.frames.at(-1);
    if (parent?.array) parent.next = (parent.next as number) + 1;
    // The frames above the value count towards the depth limit too.
    checkDepth(assembler.current, this.maxDepth - this.frames.length);
    // The parser's strings are slices of the text it read: a copy lets that text go.
    const value = structuredClone(assembler.current);
    if (index === undefined) {
      this.visitor.creator(value);
      return;
    }
    this.entryCount += 1;
    return this.visitor.entry(value, index);
  }
}

/** Refuses the body once it passes `maxBytes`; `read.bytes` counts what went through. */
async function* capped(bytes: AsyncIterable<Buffer>, maxBytes: number, read: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of bytes) {
    read.bytes += chunk.length;
    if (read.bytes > maxBytes) {
      throw new StoreError('payload_too_large', `A HAR import may take at most ${maxBytes} bytes; this one takes more.`, { extra: { limit: maxBytes } });
    }
    yield chunk;
  }
}

/** Reads a HAR from its bytes, entry by entry; resolves with the number of entries once all were handed over. */
export async function readHarStream(bytes: AsyncIterable<Buffer>, options: HarStreamOptions, visitor: HarVisitor): Promise<number> {
  const read = { bytes: 0 };
  const tokens = new HarTokens(
    {
      creator: (value) => visitor.creator(value),
      entry: (value, index) => {
        const pending = visitor.entry(value, index);
        const entries = tokens.entryCount;
        if (options.onProgress && entries % PROGRESS_ENTRIES === 0) options.onProgress({ entries, bytes: read.bytes });
        return pending;
      },
    },
    options.maxDepth,
  );
  // What fails in the sink (a batch that could not be written) is not the file's fault.
  let sinkFailure: unknown;
  const fail = (error: unknown, done: (error: Error) => void) => done((sinkFailure = error) as Error);
  const sink = new Writable({
    objectMode: true,
    write(token: Token, _encoding, done) {
      try {
        const pending = tokens.consume(token);
        if (pending) pending.then(() => done(), (error) => fail(error, done));
        else done();
      } catch (error) {
        fail(error, done);
      }
    },
  });
  const stages = options.keepResponses ? [] : [ignore.asStream({ filter: /^log\.entries\.\d+\.response$/, maxDepth: options.maxDepth })];
  try {
    await pipeline([Readable.from(capped(bytes, options.maxBytes, read)), parser.asStream({ streamValues: false }), ...stages, sink]);
  } catch (error) {
    if (error instanceof StoreError || error === sinkFailure) throw error;
    // The parser's and the depth filter's errors: the file is broken where the reader stands.
    throw importFailed('har-1.2', tokens.location(), (error as Error).message);
  }
  if (!tokens.entriesSeen) throw importFailed('har-1.2', '/log/entries', 'A HAR needs log.entries, an array.');
  return tokens.entryCount;
}
