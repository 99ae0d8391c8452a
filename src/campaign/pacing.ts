/**
 * Pacing. The token bucket is a GCRA with no burst allowance: each take(n) reserves the next
 * n/rate seconds and resolves at the end of that reservation, so sends are released evenly and
 * any interval of length T releases at most rate*T recipients: never above the quota, even right
 * after an idle spell. Reservations are FIFO, so batches leave in the order they asked.
 */
export class Aborted extends Error {
  override readonly name = 'Aborted';
}

export class TokenBucket {
  private tat: number;
  private current: number;

  constructor(
    private readonly configuredRate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(configuredRate > 0) || !Number.isFinite(configuredRate)) throw new Error('rate must be a positive number');
    this.current = configuredRate;
    this.tat = now();
  }

  get rate(): number {
    return this.current;
  }

  /** Waits until n recipients may be released; rejects with Aborted if `signal` fires first. */
  /** Reserves n recipients: the time (ms, on this bucket's clock) at which they may be released. */
  reserve(n: number): number {
    const at = Math.max(this.tat, this.now()) + (n * 1000) / this.current;
    this.tat = at;
    return at;
  }

  take(n: number, signal?: AbortSignal): Promise<void> {
    if (n <= 0) return Promise.resolve();
    const wait = this.reserve(n) - this.now();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Aborted('aborted'));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, wait));
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Aborted('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The provider throttled us: its real limit is below ours for now. Multiplicative decrease. */
  throttled(): void {
    this.current = Math.max(this.configuredRate * 0.05, this.current * 0.7);
  }

  /** A clean send: additive increase back towards the configured rate, never beyond it. */
  recovered(): void {
    if (this.current < this.configuredRate) this.current = Math.min(this.configuredRate, this.current + this.configuredRate * 0.02);
  }
}

/** Exponential backoff with full jitter, capped. */
export function backoffMs(attempt: number, baseMs = 100, capMs = 5_000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(t);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const JST_OFFSET_MIN = 9 * 60;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Milliseconds until the JST send window opens: 0 inside it. Japan has no daylight saving, so
 * JST is UTC+9 all year. A window whose end is before its start runs over midnight.
 */
export function msUntilWindowOpens(window: { start: string; end: string } | undefined, now: Date): number {
  if (!window) return 0;
  const start = minutes(window.start);
  const end = minutes(window.end);
  if (start === end) return 0;
  const dayMs = 86_400_000;
  const jstMs = (now.getTime() + JST_OFFSET_MIN * 60_000) % dayMs;
  const m = jstMs / 60_000;
  const inside = start < end ? m >= start && m < end : m >= start || m < end;
  if (inside) return 0;
  const untilStart = (start * 60_000 - jstMs + dayMs) % dayMs;
  return untilStart;
}
