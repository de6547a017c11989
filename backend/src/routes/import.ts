import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse } from '../http/openapi.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { hasBody, isJson } from '../http/shell.js';
import { importHarToHistory } from '../projects/import/har-history.js';
import type { ImportProgress } from '../projects/import/har-stream.js';
import { applyImport, importHarStream, planImport } from '../projects/import/index.js';
import { fileKeySchema } from '../store/files.js';

/**
 * `POST /import?parent={spaceKey}`: a Postman, Insomnia, HAR, OpenAPI/Swagger, cURL or api-store
 * file becomes projects (and spaces) in one atomic write, answered with a report.
 */

const ImportReportSchema = z
  .object({
    format: z.string(),
    created: z.array(z.object({ key: z.string(), kind: z.string(), name: z.string(), parent: z.string().optional(), sourceKey: z.string().optional() })),
    skipped: z.array(z.object({ location: z.string(), reason: z.string() })),
    history: z.object({ entries: z.number().int() }).optional().openapi({ description: 'With `to=history`: how many history entries were written' }),
  })
  .openapi('ImportReport');

export function registerImport(api: Api, services: Services): void {
  const { store, config, events } = services;
  api.openapi(
    createRoute({
      method: 'post',
      path: '/import',
      summary: 'Import a Postman, Insomnia, HAR, OpenAPI, Swagger, cURL or api-store file',
      description:
        'The body is the file itself: JSON (`application/json`), YAML (`application/yaml`, `text/yaml`, `application/x-yaml`) or ' +
        'text (`text/plain`, e.g. a cURL command line); the format is detected from the content. Everything is written in one ' +
        'batch, or nothing: a file of no supported format gives `import_unsupported_format`, a broken one `import_failed` with ' +
        'the `format` tried and the `location` where it failed. A HAR (JSON whose first key is `log`) is read as it arrives, ' +
        'one entry at a time, and may be larger than other bodies (`limits.harImportBytes`, 512 MiB by default); with `to=history` ' +
        'its entries become history entries, written in batches of at most 500 as they are read (removed again if the import fails). While a HAR is read, ' +
        'every 1,000 entries the caller\'s event sockets observing `/files` (into a project) or `/history` get ' +
        '`{type: "progress", operation: "import", requestId, format, entries, bytes, path}`; `requestId` is the request\'s ' +
        '`X-Request-Id`. The answer lists what was created and every part of the source ' +
        'that could not be mapped, with its location and the reason.',
      request: {
        query: z.object({
          parent: fileKeySchema.optional(),
          to: z.enum(['project', 'history']).optional().openapi({
            description: 'Where a HAR goes: a project (the default) or history, entries and responses, attached to `parent` when given',
          }),
        }),
        body: {
          required: true,
          description: 'The file to import; a project document (`HttpProject`) is one of the formats',
          content: {
            'application/json': { schema: { anyOf: [{ $ref: '#/components/schemas/HttpProject' }, { type: 'object' }] } },
            'application/yaml': { schema: { type: 'string' } },
            'text/plain': { schema: { type: 'string' } },
          },
        },
      },
      responses: {
        201: jsonResponse(ImportReportSchema, 'What was created, and what could not be mapped'),
        400: { description: '`import_unsupported_format` or `import_failed`; nothing was written' },
        404: { description: 'No such parent space the caller can see' },
      },
    }),
    async (c) => {
      if (!hasBody(c)) throw new ApiError('validation_failed', 'The file to import is the request body.', { errors: [{ path: 'body', message: 'required' }] });
      const { parent, to } = c.req.valid('query');
      const harBody = c.get('harBody');
      const user = c.get('caller').user;
      const requestId = c.get('requestId');
      // Progress goes to the caller's sockets observing where the import writes; `requestId` (the
      // request's X-Request-Id) tells it apart.
      const progress = (path: string) => (read: ImportProgress) => events.notify(user, path, { type: 'progress', operation: 'import', requestId, format: 'har-1.2', ...read });
      if (to === 'history') {
        if (!harBody) throw new ApiError('validation_failed', 'Only a HAR (JSON whose first key is "log") imports into history.', { errors: [{ path: 'to', message: 'a HAR only' }] });
        return c.json(await importHarToHistory(store, user, parent, harBody, config.limits, progress('/history')), 201);
      }
      if (harBody) return c.json(await importHarStream(store, user, parent, harBody, config.limits, progress('/files')), 201);
      const source = isJson(c.req.header('Content-Type') ?? '') ? { json: await c.req.json() } : { text: await c.req.text() };
      const plan = await planImport(source, config.limits.jsonDepth);
      const report = await applyImport(store, user, parent, plan, config.limits);
      return c.json(report, 201);
    },
  );
}
