import SwaggerParser from '@apidevtools/swagger-parser';
import spectralCore from '@stoplight/spectral-core';
import { oas } from '@stoplight/spectral-rulesets';
import { startTestStore } from './helpers/store.js';
const { Spectral, Document } = spectralCore as any;
import * as Parsers from '@stoplight/spectral-parsers';
const store = await startTestStore();
const doc = await (await store.api('/openapi.json')).json();
await store.stop();
const fs = await import('node:fs');
fs.writeFileSync('/tmp/contract-oas/doc.json', JSON.stringify(doc, null, 1));
try { await SwaggerParser.validate(structuredClone(doc)); console.log('swagger-parser OK'); } catch (e) { console.log('swagger-parser:', (e as Error).message.slice(0, 3000)); }
const spectral = new Spectral();
spectral.setRuleset({ extends: [[oas as any, 'recommended']] } as any);
const results = await spectral.run(new Document(JSON.stringify(doc), (Parsers as any).default.Json));
const counts: Record<string, number> = {};
for (const r of results) counts[r.code] = (counts[r.code] ?? 0) + 1;
console.log(counts);
for (const r of results.slice(0, 400)) console.log(r.severity, r.code, r.path.join('.'), r.message.slice(0,120));
