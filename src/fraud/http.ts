/** Request parsing shared by the fraud-operations routes: JSON bodies checked by zod, 400 naming the field. */
import type { z } from 'zod';
import { opsProblem, type OpsResponse } from '../ops/router.ts';
import { FraudInputError, FraudRefusedError } from './common.ts';

export const ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseBody<T extends z.ZodType>(schema: T, body: string): z.infer<T> {
  let value: unknown = {};
  if (body.trim() !== '') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new FraudInputError('body', 'body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'body';
    throw new FraudInputError(field, issue.message);
  }
  return parsed.data;
}

export function pathId(raw: string, field: string, re: RegExp = ID): string {
  const v = decodeURIComponent(raw);
  if (!re.test(v)) throw new FraudInputError(field, `not a valid ${field}`);
  return v;
}

/** Maps the fraud modules' errors to responses; anything else is the handler's 500. */
export function asResponse(e: unknown): OpsResponse {
  if (e instanceof FraudInputError) return opsProblem(400, 'INVALID_REQUEST', e.message, e.field);
  if (e instanceof FraudRefusedError) return opsProblem(e.status, e.code, e.message);
  throw e;
}
