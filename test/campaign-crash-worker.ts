/**
 * The crash test's worker process: the production wiring (engineDepsFromEnv: SES, End User
 * Messaging, DynamoDB, the policy from CAMPAIGN_IN_DOUBT) plus one fault. With CRASH_AT=k, once
 * each channel has had its k-th release answered by the provider, and before any outcome of those
 * releases is written, the process kills itself with SIGKILL: both channels are then left with
 * recipients the provider accepted and the ledger still has as SENDING. Without CRASH_AT it runs
 * like `npm run campaign -- work <id>` until the campaign completes.
 */
import { engineDepsFromEnv } from '../src/campaign/deps.ts';
import { runCampaignWorker } from '../src/campaign/engine.ts';
import type { Channel } from '../src/campaign/types.ts';

const id = process.argv[2]!;
const crashAt = Number(process.env.CRASH_AT ?? 0);
const released: Record<Channel, number> = { email: 0, sms: 0 };
const ready = new Set<Channel>();
let bothReady: () => void = () => {};
const both = new Promise<void>((r) => (bothReady = r));

const log = (message: string, ids: Record<string, string | number>) => process.stdout.write(`${message} ${JSON.stringify(ids)}\n`);
const deps = await engineDepsFromEnv(
  crashAt > 0
    ? {
        log,
        afterSend: async (channel) => {
          if (++released[channel] < crashAt) return;
          ready.add(channel);
          if (ready.size === 2) bothReady();
          // Hold this release (accepted, outcome unwritten) until the other channel is in the same spot.
          await Promise.race([both, new Promise((r) => setTimeout(r, 30_000))]);
          process.stdout.write(`crash: email release ${released.email}, sms release ${released.sms}\n`);
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => {});
        },
      }
    : { log },
);
for (;;) {
  const r = await runCampaignWorker(id, deps);
  if (r.outcome === 'COMPLETED' || r.state === 'COMPLETED' || r.state === 'CANCELLED') break;
  await new Promise((res) => setTimeout(res, Math.min(r.waitMs ?? 500, 2000)));
}
process.exit(0);
