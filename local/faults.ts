/**
 * Wire-level fault queues shared by the local peers: the next calls to a peer answer with the
 * queued faults, in order, the way the real service would fail (throttling, 5xx). The real SDK
 * clients see genuine error responses and apply their own retry/backoff.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * throttle: the service's rate limit answer; 5xx: an internal error; reject: a permanent refusal
 * of this request (SES MessageRejected, SNS InvalidParameter, EventBridge ValidationException).
 */
export type Fault = 'throttle' | '5xx' | 'reject';

export class FaultQueue {
  private queue: Fault[] = [];
  push(faults: readonly Fault[]): void {
    this.queue.push(...faults);
  }
  /** The fault the next call must answer with, if any. */
  next(): Fault | undefined {
    return this.queue.shift();
  }
  clear(): void {
    this.queue = [];
  }
  get pending(): number {
    return this.queue.length;
  }
}

export function readBody(req: IncomingMessage, limit = 30 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
