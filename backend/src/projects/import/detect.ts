import { StoreError } from '../../store/store-error.js';
import { checkDepth } from '../../store/document-limits.js';
import { importFailed, type ImportFormat } from './plan.js';

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A body as the route received it: already parsed JSON, or text (YAML, a cURL command line). */
export type ImportSource = { json: unknown } | { text: string };

export interface DetectedSource {
  format: ImportFormat;
  /** The parsed document; for cURL the command line. */
  value: unknown;
}

/** Every HAR writer starts with the `log` key: enough to stream a HAR before the whole body is read. */
export const startsLikeHar = (start: string) => /^\s*\{\s*"log"\s*:/.test(start);

/** How many bytes `startsLikeHar` needs to decide (leading whitespace aside). */
export const HAR_SNIFF_BYTES = 64;

const isCurl = (text: string) => /^\s*curl(\s|$)/.test(text);

/** Parses a text body: JSON, YAML, or a cURL command line (kept as text). */
async function parseText(text: string): Promise<{ value: unknown } | { curl: string }> {
  if (isCurl(text)) return { curl: text };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      throw importFailed('json', '', (error as Error).message);
    }
  }
  // The YAML parser loads with the first YAML import, not with the server.
  const { parseDocument } = await import('yaml');
  const document = parseDocument(text, { uniqueKeys: false });
  if (document.errors.length) {
    const [first] = document.errors;
    const where = first.linePos?.[0];
    throw importFailed('yaml', where ? `line ${where.line}, column ${where.col}` : '', first.message.split('\n')[0]);
  }
  try {
    // Aliases are capped: a few lines of YAML must not expand into gigabytes.
    return { value: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    throw importFailed('yaml', '', (error as Error).message);
  }
}

/** The format of a parsed document, from the fields each tool writes. */
function formatOf(value: unknown): ImportFormat | undefined {
  if (!isObject(value)) return undefined;
  if (value.kind === 'ApiStore#Export') return 'api-store';
  if (value.kind === 'Core#HttpProject') return 'api-client-project';
  const schema = isObject(value.info) ? value.info.schema : undefined;
  if (typeof schema === 'string') {
    if (schema.includes('/collection/v2.1')) return 'postman-collection-v2.1';
    if (schema.includes('/collection/v2.0')) return 'postman-collection-v2.0';
  }
  if (value._postman_variable_scope === 'environment' || (Array.isArray(value.values) && typeof value.name === 'string' && !('info' in value))) {
    return 'postman-environment';
  }
  if (value._type === 'export' && value.__export_format === 4) return 'insomnia-v4';
  if (typeof value.type === 'string' && /^(collection|spec)\.insomnia\.rest\/5\./.test(value.type)) return 'insomnia-v5';
  if (isObject(value.log) && Array.isArray(value.log.entries)) return 'har-1.2';
  if (typeof value.openapi === 'string' && value.openapi.startsWith('3.')) return 'openapi-3';
  if (value.swagger === '2.0') return 'swagger-2.0';
  return undefined;
}

const supported =
  'Postman collection v2.0/v2.1 or environment, Insomnia export v4 or v5, HAR 1.2, OpenAPI 3.x, Swagger 2.0, a cURL command, or an api-store export';

/** Finds what the body is; a body of no supported format is refused before anything is mapped. */
export async function detectFormat(source: ImportSource, maxDepth: number): Promise<DetectedSource> {
  const parsed = 'json' in source ? { value: source.json } : await parseText(source.text);
  if ('curl' in parsed) return { format: 'curl', value: parsed.curl };
  // A YAML body is as deep as it likes until parsed: the shell checked JSON bodies already.
  if ('text' in source) checkDepth(parsed.value, maxDepth);
  const format = formatOf(parsed.value);
  if (format) return { format, value: parsed.value };
  const hint = isObject(parsed.value) && isObject(parsed.value.info) && typeof parsed.value.info.schema === 'string' ? ` (schema ${parsed.value.info.schema})` : '';
  throw new StoreError('import_unsupported_format', `The file is not a format this store imports${hint}. Supported: ${supported}.`);
}
