/**
 * Ports for the local peers. A port found free and then let go can be taken by anyone before it
 * is listened on again: another test file's server or, far more often on a busy machine, the
 * local end of some outgoing connection. So servers in this process listen on port 0 and read the
 * port back (listenLocal), a port that must be known before its server can start is held open
 * until then (reservePort), and only child processes, which must be told a port, get one from
 * freePort (and start again on another when they cannot bind it).
 */
import { createServer, type Server as NetServer } from 'node:net';
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

/** Listens on 127.0.0.1 at `port` (a free one, chosen by the system, when absent); resolves with the base URL. */
export async function listenLocal(server: Server, port?: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
}

/**
 * A port on 127.0.0.1 held open (listening, unreferenced) until a server takes it over with
 * `server.listen(reserved.handle)`, so nobody else can take it in between; `release()` lets it go
 * unused.
 */
export async function reservePort(): Promise<{ port: number; handle: NetServer; release(): Promise<void> }> {
  const handle = createServer();
  handle.unref();
  await new Promise<void>((resolve, reject) => {
    handle.once('error', reject);
    handle.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = handle.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let released = false;
  return {
    port,
    handle,
    release: () =>
      new Promise<void>((resolve) => {
        if (released) return resolve();
        released = true;
        handle.close(() => resolve());
      }),
  };
}

/** A child process that exited while starting (on a port from freePort: most likely taken meanwhile). */
export class ChildExitedError extends Error {}

/**
 * Starts a child process on a port from freePort, and on another if the child exited while
 * starting (ChildExitedError): at most `attempts` ports. With a port given, only that one.
 */
export async function startOnFreePort<T>(given: number | undefined, start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  if (given !== undefined) return start(given);
  for (let i = 1; ; i++) {
    try {
      return await start(await freePort());
    } catch (e) {
      if (!(e instanceof ChildExitedError) || i >= attempts) throw e;
    }
  }
}
