/** One table in bench/RESULTS.md. Each bench module exports `run(): Promise<BenchSection[]>`. */
export interface BenchSection {
  title: string;
  /** What was measured and how, in a sentence or two. */
  method: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i]!;
}

export const fmt = (n: number, digits = 1): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

/** Median and spread (min..max) of repeated samples; every figure in RESULTS.md is one of these. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(samples: readonly number[]): Spread {
  const s = [...samples].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** "1,234 (1,200–1,260, n=3)": the median first, then the spread. */
export const fmtSpread = (x: Spread, digits = 1): string => `${fmt(x.median, digits)} (${fmt(x.min, digits)}–${fmt(x.max, digits)}, n=${x.n})`;

/** Runs `variants` round-robin `rounds` times (interleaved, so neither side always runs warmer). */
export async function interleaved<K extends string, T>(rounds: number, variants: Record<K, () => Promise<T>>): Promise<Record<K, T[]>> {
  const out = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as T[]])) as Record<K, T[]>;
  const keys = Object.keys(variants) as K[];
  for (let r = 0; r < rounds; r++) {
    // Alternate which variant goes first each round.
    const order = r % 2 === 0 ? keys : [...keys].reverse();
    for (const k of order) out[k].push(await variants[k]());
  }
  return out;
}
