import { createServer } from 'node:net';
import type { Server } from 'node:http';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Listens on 127.0.0.1 at `port` (a free one when absent); resolves with the base URL. */
export async function listenLocal(server: Server, port?: number): Promise<string> {
  const p = port ?? (await freePort());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${p}`;
}
