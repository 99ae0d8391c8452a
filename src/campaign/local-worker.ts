/**
 * Local mode's stand-in for the campaign queue: polls for RUNNING campaigns every 2 s and runs a
 * worker for each in this process, so a campaign started from the console or the operations API
 * sends locally as it would in AWS. Leases make it safe beside a CLI worker.
 */
import { engineDepsFromEnv } from './deps.ts';
import { runCampaignWorker } from './engine.ts';
import { listCampaigns } from './store.ts';

export function runLocalCampaignWorkers(opts: { signal: AbortSignal; pollMs?: number; log?: (line: string) => void }): Promise<void> {
  const running = new Map<string, Promise<void>>();
  const log = opts.log ?? (() => {});
  return (async () => {
    const deps = await engineDepsFromEnv();
    while (!opts.signal.aborted) {
      try {
        for (const c of await listCampaigns(20)) {
          if (c.state !== 'RUNNING' || running.has(c.campaignId)) continue;
          const p = runCampaignWorker(c.campaignId, deps, { signal: opts.signal })
            .then((r) => log(`campaign ${c.campaignId}: ${r.outcome}`))
            .catch((e: unknown) => log(`campaign ${c.campaignId} worker failed: ${e instanceof Error ? e.name : 'error'}`))
            .finally(() => running.delete(c.campaignId));
          running.set(c.campaignId, p);
        }
      } catch (e) {
        log(`campaign poll failed: ${e instanceof Error ? e.name : 'error'}`);
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
    }
    await Promise.all(running.values());
  })();
}
