/**
 * Pacing. The token bucket releases waiters one after the other (FIFO), each n recipients no
 * sooner than n/rate after the previous release *actually happened* (or after it asked, if the
 * bucket sat idle: an idle bucket saves nothing up). So between any two releases a_i < a_j the
 * recipients released in (a_i, a_j] number at most rate x (a_j - a_i), late timers and slow
 * event loops included: never above the quota. Callers release at most `perRelease(rate)`
 * recipients at once, so a single release never exceeds one second's quota either.
 */
export class Aborted extends Error {
  override readonly name = 'Aborted';
}

/** When a release of n may happen: n/rate after the previous actual release, or after `turnAt` if idle. */
export function nextRelease(lastRelease: number, turnAt: number, n: number, ratePerSecond: number): number {
  return Math.max(lastRelease, turnAt) + (n * 1000) / ratePerSecond;
}

/** The most recipients one release may carry: a batch, but never more than one second's worth. */
export function perRelease(ratePerSecond: number, batchSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(ratePerSecond)));
}

export class TokenBucket {
  private last: number;
  private current: number;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly configuredRate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(configuredRate > 0) || !Number.isFinite(configuredRate)) throw new Error('rate must be a positive number');
    this.current = configuredRate;
    this.last = now();
  }

  get rate(): number {
    return this.current;
  }

  /** When the last release happened (this bucket's clock). */
  get lastRelease(): number {
    return this.last;
  }

  /** Resolves when n recipients may be released: release them at once. Rejects with Aborted if `signal` fires first. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    if (n <= 0) return Promise.resolve();
    const turn = this.chain.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(new Aborted('aborted'));
          const due = nextRelease(this.last, this.now(), n, this.current);
          const onAbort = () => {
            clearTimeout(timer);
            reject(new Aborted('aborted'));
          };
          let timer: NodeJS.Timeout;
          // Timers have millisecond granularity and fire late: every late release delays all the
          // next ones (the rate is kept between *actual* releases), which at 40 releases/s costs
          // a few % of the quota. So wake ~1.5 ms early and wait out the rest exactly.
          const fire = () => {
            const left = due - this.now();
            if (left > 2) {
              timer = setTimeout(fire, left - 1.5);
              return;
            }
            while (this.now() < due) {
              // sub-millisecond wait for the exact release time
            }
            signal?.removeEventListener('abort', onAbort);
            this.last = this.now();
            resolve();
          };
          timer = setTimeout(fire, Math.max(0, due - this.now() - 1.5));
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
    );
    this.chain = turn.catch(() => undefined);
    return turn;
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
