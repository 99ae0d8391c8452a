/**
 * Where a campaign recipient's ledger entry lives, and the tags that tie a provider message to
 * it. Small on purpose: the delivery function imports it to record the providers' send events in
 * the ledger without loading the campaign engine.
 *
 *   CAMPAIGN#{id}#L#{hh} / R#{channel}#{accountId}   the recipient's entry (status, attempt, ...)
 *   CAMPAIGN#{id}#L#{hh} / S#{channel}#{accountId}   what the providers' events said was sent:
 *                                                    message ids (a set) and the first time
 * The send record is a separate item in the same partition so that the delivery function's
 * write never races the worker's conditional transactions on the entry itself, and one BatchGet
 * reads the records of a whole batch.
 */
export type LedgerChannel = 'email' | 'sms';

export const LEDGER_PARTITIONS = 256;

/** FNV-1a: spreads a campaign's ledger over LEDGER_PARTITIONS keys (no hot partition at 10M). */
export function ledgerPartition(accountId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    h ^= accountId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % LEDGER_PARTITIONS;
}

const partitionKey = (campaignId: string, accountId: string) => `CAMPAIGN#${campaignId}#L#${ledgerPartition(accountId).toString(16).padStart(2, '0')}`;

export const ledgerKey = (campaignId: string, channel: LedgerChannel, accountId: string) => ({ pk: partitionKey(campaignId, accountId), sk: `R#${channel}#${accountId}` });
export const sendRecordKey = (campaignId: string, channel: LedgerChannel, accountId: string) => ({ pk: partitionKey(campaignId, accountId), sk: `S#${channel}#${accountId}` });

/**
 * The ledger key as message tags (SES EmailTags) or End User Messaging Context. SES tag values
 * allow only ASCII letters, digits, `_` and `-`, and account ids may hold `.` and `:`, so the
 * account id travels base64url-encoded (no padding: still only letters, digits, `_`, `-`).
 */
export const CAMPAIGN_TAG = 'campaign';
export const CHANNEL_TAG = 'campaignChannel';
export const RECIPIENT_TAG = 'campaignRecipient';

export interface CampaignMessageKey {
  campaignId: string;
  channel: LedgerChannel;
  accountId: string;
}

const TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;

export function campaignMessageTags(k: CampaignMessageKey): Record<string, string> {
  return { [CAMPAIGN_TAG]: k.campaignId, [CHANNEL_TAG]: k.channel, [RECIPIENT_TAG]: Buffer.from(k.accountId, 'utf8').toString('base64url') };
}

/** The ledger key a message's tags (or Context) name; undefined when it is not a campaign message or the tags are malformed. */
export function campaignKeyFromTags(get: (name: string) => string | undefined): CampaignMessageKey | undefined {
  const campaignId = get(CAMPAIGN_TAG);
  const channel = get(CHANNEL_TAG);
  const recipient = get(RECIPIENT_TAG);
  if (!campaignId || !recipient || (channel !== 'email' && channel !== 'sms')) return undefined;
  if (!TAG_VALUE.test(campaignId) || !TAG_VALUE.test(recipient)) return undefined;
  const accountId = Buffer.from(recipient, 'base64url').toString('utf8');
  // Same rule as an audience list line: anything else did not come from our tags.
  if (!/^[\w.:-]{1,64}$/.test(accountId)) return undefined;
  return { campaignId, channel, accountId };
}
