/** JSON Schema (draft 2020-12) of every event contract, derived from the zod schemas. */
import * as z from 'zod';
import { coreEvents, CORE_SOURCE } from './core.ts';
import { alertingEvents, ALERTING_SOURCE } from './alerting.ts';

export function jsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const all: [string, string, z.ZodType][] = [
    ...Object.entries(coreEvents).map(([n, s]) => [CORE_SOURCE, n, s] as [string, string, z.ZodType]),
    ...Object.entries(alertingEvents).map(([n, s]) => [ALERTING_SOURCE, n, s] as [string, string, z.ZodType]),
  ];
  for (const [source, name, schema] of all) {
    out[`${source}.${name}`] = {
      ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
      title: name,
      description: `detail of EventBridge events with source ${source} and detail-type ${name}`,
    };
  }
  return out;
}
