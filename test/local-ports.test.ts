/**
 * Ports of the local runtime and peers on a busy machine (local/free-port.ts). A port found free
 * and let go can be taken before it is listened on again, by another test file's server or by the
 * local end of an outgoing connection: that failed a loaded run with "port … is in use". So a port
 * needed before its server starts is held open until the server takes it over, and a child process
 * that could not bind its port starts again on another.
 */
import { afterEach, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { ChildExitedError, listenLocal, reservePort, startOnFreePort } from '../local/free-port.ts';

const toClose: { close(cb?: () => void): unknown }[] = [];
afterEach(async () => {
  for (const s of toClose.splice(0)) await new Promise((r) => s.close(() => r(undefined)));
});

const bind = (port: number) =>
  new Promise<NetServer | NodeJS.ErrnoException>((resolve) => {
    const s = createNetServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });

it('a reserved port cannot be taken by anyone else, and the server that takes it over answers on it', async () => {
  const reserved = await reservePort();
  const other = await bind(reserved.port);
  if (!(other instanceof Error)) toClose.push(other);
  expect(other).toMatchObject({ code: 'EADDRINUSE' });

  const server = createServer((_req, res) => res.end('mine'));
  await new Promise<void>((resolve) => server.listen(reserved.handle, resolve));
  toClose.push(server);
  expect(await (await fetch(`http://127.0.0.1:${reserved.port}/`)).text()).toBe('mine');
});

it('a reserved port let go unused is free again', async () => {
  const reserved = await reservePort();
  await reserved.release();
  const again = await bind(reserved.port);
  expect(again).not.toBeInstanceOf(Error);
  toClose.push(again as NetServer);
});

it('listenLocal without a port listens on one the system chose and says which', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  const url = await listenLocal(server);
  toClose.push(server);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(await (await fetch(`${url}/`)).text()).toBe('ok');
});

it('a child that exits while starting is started again on another port; other failures and a given port are not retried', async () => {
  const tried: number[] = [];
  const started = await startOnFreePort(undefined, async (port) => {
    tried.push(port);
    if (tried.length < 3) throw new ChildExitedError('exited: address in use');
    return port;
  });
  expect(tried).toHaveLength(3);
  expect(started).toBe(tried[2]);

  let calls = 0;
  await expect(
    startOnFreePort(undefined, async () => {
      calls++;
      throw new Error('java: not found');
    }),
  ).rejects.toThrow('java: not found');
  expect(calls).toBe(1);

  const given: number[] = [];
  await expect(
    startOnFreePort(4567, async (port) => {
      given.push(port);
      throw new ChildExitedError('exited');
    }),
  ).rejects.toBeInstanceOf(ChildExitedError);
  expect(given).toEqual([4567]);

  let attempts = 0;
  await expect(
    startOnFreePort(undefined, async () => {
      attempts++;
      throw new ChildExitedError('exited');
    }),
  ).rejects.toBeInstanceOf(ChildExitedError);
  expect(attempts).toBe(3);
});

it("the runtime's HTTP server on a reserved port keeps its process running, as on a port of its own", async () => {
  // The reserved socket waits unreferenced (it must not hold a process up by itself); the server
  // that takes it over must hold the process up again, or a runtime would exit under its users.
  const url = (f: string) => new URL(f, import.meta.url).href;
  const code = `
    const { reservePort } = await import(${JSON.stringify(url('../local/free-port.ts'))});
    const { startLocalHttpServer } = await import(${JSON.stringify(url('../local/http-server.ts'))});
    const reserved = await reservePort();
    const http = await startLocalHttpServer({ invoke: async () => null, apiKey: 'k', sessionSecret: 's'.repeat(32), handle: reserved.handle });
    setTimeout(() => { console.log('still up on the reserved port: ' + (http.port === reserved.port)); void http.close(); }, 300).unref();
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 60_000 });
  expect(stdout).toContain('still up on the reserved port: true');
});
