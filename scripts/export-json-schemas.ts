/** Writes one JSON Schema per inbound and outbound event to events/schemas/ (for partners and the EventBridge schema registry). */
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonSchemas } from '../events/json-schema.ts';

const dir = fileURLToPath(new URL('../events/schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(`${dir}${name}.json`, `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(jsonSchemas()).length} schemas to events/schemas/`);
