import { readFileSync } from 'node:fs';
import { detectFormat } from './backend/src/projects/import/detect.js';
import { importPostmanCollection, importPostmanEnvironment } from './backend/src/projects/import/postman.js';
import { projectDocumentSchema } from './backend/src/projects/project-document.js';
for (const f of ['postman-v2.1-complex.json', 'postman-v2.0-complex.json', 'postman-v2.1-scripts.json', 'postman-environment.json']) {
  const d = detectFormat({ json: JSON.parse(readFileSync('test/fixtures/import/' + f, 'utf8')) });
  const plan = d.format === 'postman-environment' ? importPostmanEnvironment(d.value) : importPostmanCollection(d.value, d.format);
  const doc = plan.files[0].contents as any;
  console.log(f, d.format, projectDocumentSchema.safeParse(doc).success, doc.definitions.requests.length, plan.skipped);
  if (f.includes('2.0')) console.log(JSON.stringify(doc.definitions.requests.map((r: any) => [r.info.name, r.expects, r.authorization]), null, 1).slice(0, 3000));
}
