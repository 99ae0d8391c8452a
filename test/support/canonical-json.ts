/**
 * JSON for comparing DynamoDB items before and after: object keys sorted, sets written out as
 * sorted arrays. DynamoDB (and DynamoDB Local) return an item's attributes in no fixed order, so
 * an item rewritten with the same values can list them differently; and JSON.stringify writes a
 * Set (a string or number set from the document client) as `{}`, which would hide a change to it.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canon(value));
}

function canon(v: unknown): unknown {
  if (v instanceof Set) return { $set: [...v].map((m) => JSON.stringify(canon(m))).sort() };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canon(o[k])]),
    );
  }
  return v;
}
