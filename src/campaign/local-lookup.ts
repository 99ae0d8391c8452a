/**
 * In-doubt recovery against the local peers: the mailbox (aws-ses-v2-local's JSON at /store,
 * through the proxy) and the SMS outbox (/messages). A message is matched to a ledger attempt by
 * the token in its links: the ledger keeps only the token's hash, so each token found is hashed
 * with the pepper and compared. In AWS the same question is answered by the delivery events.
 */
import { hashToken } from '../domain/tokens.ts';
import type { DeliveryLookup } from './senders.ts';
import { tokensIn } from './message.ts';

interface Snapshot {
  at: number;
  byContact: Map<string, { messageId: string; body: string }[]>;
}

export function localDeliveryLookup(opts: { sesEndpoint: string; smsEndpoint: string; pepper: string; actionBaseUrl: string }): DeliveryLookup {
  const snapshots: Partial<Record<'email' | 'sms', Snapshot>> = {};

  async function snapshot(channel: 'email' | 'sms'): Promise<Snapshot> {
    const cached = snapshots[channel];
    if (cached && Date.now() - cached.at < 1000) return cached;
    const byContact = new Map<string, { messageId: string; body: string }[]>();
    const add = (contact: string, messageId: string, body: string) => {
      const list = byContact.get(contact) ?? [];
      list.push({ messageId, body });
      byContact.set(contact, list);
    };
    if (channel === 'email') {
      const r = await fetch(`${opts.sesEndpoint}/store`);
      const { emails } = (await r.json()) as { emails: { messageId: string; destination: { to: string[] }; body: { html?: string; text?: string } }[] };
      for (const e of emails) for (const to of e.destination.to) add(to.toLowerCase(), e.messageId, `${e.body.text ?? ''}\n${e.body.html ?? ''}`);
    } else {
      const r = await fetch(`${opts.smsEndpoint}/messages`);
      for (const m of (await r.json()) as { messageId: string; phoneNumber: string; message: string }[]) add(m.phoneNumber, m.messageId, m.message);
    }
    const s = { at: Date.now(), byContact };
    snapshots[channel] = s;
    return s;
  }

  return {
    async find(channel, contact, tokenHash) {
      const s = await snapshot(channel);
      for (const m of s.byContact.get(channel === 'email' ? contact.toLowerCase() : contact) ?? []) {
        if (tokensIn(m.body, opts.actionBaseUrl).some((t) => hashToken(t, opts.pepper) === tokenHash)) return m.messageId;
      }
      return undefined;
    },
  };
}
