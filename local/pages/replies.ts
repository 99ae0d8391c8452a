/**
 * Local pages for replies and delivery (local/reply-simulator.ts does the work): GET
 * /local/replies, the form posts it makes, and the undelivered sweep every minute (the
 * EventBridge schedule's stand-in; the timer does not keep the process alive).
 */
import { htmlPage, jsonResponse, type LocalPage } from '../http-server.ts';
import type { LocalRuntimeContext } from '../runtime.ts';
import { runSimulatorForm, scheduledEvent, simulatorPageHtml, SimulatorInputError, SIMULATOR_POSTS } from '../reply-simulator.ts';

const SWEEP_EVERY_MS = 60_000;

export function localPages(rt: LocalRuntimeContext): LocalPage[] {
  const run = (name: 'sms-reply' | 'email-reply' | 'delivery', event: unknown) => rt.invoke(name, event);
  setInterval(() => void run('delivery', scheduledEvent()).catch(() => undefined), SWEEP_EVERY_MS).unref();
  return [
    { path: '/local/replies', title: 'Replies and delivery outcomes (simulator)', handle: async () => htmlPage('Replies and delivery outcomes', await simulatorPageHtml(rt)) },
    ...SIMULATOR_POSTS.map(
      (path): LocalPage => ({
        method: 'POST',
        path,
        async handle(req) {
          const form = new URLSearchParams(req.body.toString('utf8'));
          try {
            const result = await runSimulatorForm(path, form, run, rt.peers);
            const back = form.get('back');
            return back && back.startsWith('/') && !back.startsWith('//') ? { status: 303, headers: { location: back } } : jsonResponse(result ?? { ok: true });
          } catch (e) {
            if (e instanceof SimulatorInputError) return jsonResponse({ error: e.message }, 400);
            return jsonResponse({ error: e instanceof Error ? e.name : 'error' }, 500);
          }
        },
      }),
    ),
  ];
}
