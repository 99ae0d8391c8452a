/**
 * The single table's shape: keys, sparse indexes and TTL. The CDK stack and the local runtime
 * (and tests) both create the table from this, so they cannot disagree.
 *
 * Items (pk / sk):
 *   CUST#{customerId}   / PROFILE                 customer projection (contacts, locale, prefs)
 *   ACCT#{accountId}    / ACCOUNT                 account state ACTIVE | FROZEN, version
 *                                                 + `apps`: cardless-ATM app activations held like links, by
 *                                                   activation id (PENDING | CONFIRMED | DEACTIVATED, holdUntil)
 *                                                 + `allowance`: the one hold allowance of the account's pending
 *                                                   links and apps: {until, spent, entries: R#{requestId} |
 *                                                   A#{uuid} | W#{withdrawalId} -> amount, status}, at most
 *                                                   400 entries (src/domain/allowance.ts, src/holds/)
 *   ACCT#{accountId}    / LINK#{linkId}           link PENDING | ACTIVE | REVOKED, holdUntil
 *   ACCT#{accountId}    / ALERT#{alertId}         alert with per-channel delivery, openedAt (the page's beacon)
 *   CUST#{customerId}   / ALERT#{alertId}         alerts with no account (contact changes)
 *   ACCT#{accountId}    / AUDIT#{iso time}#{id}   append-only audit entries
 *   TOKEN#{hash}        / TOKEN                   action token (hash only), TTL
 *   SEND#{alertId}#{channel}#{recipient} / SEND   per-recipient send ledger (claim, message id)
 *   CAMPAIGN#{id}       / CAMPAIGN                campaign definition and state (src/campaign/store.ts)
 *   CAMPAIGN#{id}       / SHARD#{channel}#{seg}   campaign planning segment: cursor, done, counters
 *   CAMPAIGN#{id}       / LEASE#{channel}         the worker sending a campaign's channel now
 *   CAMPAIGNS           / {createdAt}#{id}        campaign list for the console
 *   CAMPAIGN#{id}#L#{00..ff} / R#{channel}#{accountId}  campaign ledger, hashed over 256 partitions
 *   CAMPAIGN#{id}#L#{00..ff} / S#{channel}#{accountId}  campaign send record: provider message ids from the SES Send / SMS status events
 *   CAMPAIGN#{id}#A#{seg} / {accountId}           supplied campaign audience list
 *   CAMPAIGN#{id}#A#{seg} / C#{customerId}        customer list entry: one recipient (its first account added)
 *                                                 whose message covers its `accounts` set (bulk revoke notice)
 *   ACCT#{accountId}    / UNFREEZE#{requestId}    two-person unfreeze request (src/store/actions.ts), TTL
 *   OUTBOX#{0-3}        / {time}#{id}             partner events committed with a change, until published
 *   MSGID#{messageId}   / MSGID                   provider message id -> alert (src/delivery/store.ts)
 *   DUE#{minute}        / {alertId}               undelivered-alert deadline, swept every minute
 *   ORPHAN#{messageId}  / ORPHAN                  delivery event parked until its AlertSent arrives
 *   ACKRATE#{contact ref} / {hour}                reply acknowledgements sent per contact (cap)
 *   IDEMPOTENCY#replies / {message id hash}      Powertools idempotency records of inbound replies
 *   METRIC#M|H#{time}#{shard} / {counter}         console counters by minute/hour (src/console-data)
 *   METRICSEEN#{key}    / SEEN                    counter de-duplication, TTL
 *   ACCT#{accountId}    / STEPUP#{alertId}#{actionKey}  "it was me" step-up: code hash, sends, wrong tries, lock (src/stepup), TTL
 *   CUST#{customerId}   / STEPUPRATE#{hour}       step-up codes sent to a customer in a clock hour (cap), TTL
 *   CUST#{customerId}   / PASSKEY#{credentialId}  a customer's passkey: public key, counter, last use (src/stepup)
 *   TOKEN#{hash}        / WEBAUTHN#{AUTH|REGISTER} outstanding WebAuthn challenge of a token's page, single use, TTL
 * Fraud operations (src/fraud/):
 *   PROVIDER#{providerId} / CONTROL              provider controls: new links suspended?, version
 *   PROVIDER#{providerId} / REQUEST#{requestId}  two-person provider control request (+ bulk job cursor)
 *   PROVIDER#{providerId} / CHANGED#{requestId}#{accountId}#{linkId}  a link a bulk job revoked or
 *                                                 extended, written in that change's transaction; the
 *                                                 job's counts come from these; TTL 90 days
 *   PROVIDER#{providerId} / AUDIT#{time}#{id}    provider control audit entries (AuditByDay like accounts')
 *   PROVIDERS           / {providerId}           providers seen in LinkCreated (name, last link)
 *   FRAUDJOBS           / {requestId}            bulk provider jobs still running (swept every minute)
 *   FRAUDB#{dim}#{key}  / B{len}#{bucket}        detection bucket of `len` minutes, twice the rule's window
 *                                                 (src/fraud/detection/sightings.ts). dim ip | device: times
 *                                                 and links per account, entry count `n` (capped at
 *                                                 FRAUD_BUCKET_CAP); dim account: its links with their times,
 *                                                 its customer's contact changes; TTL
 *   FRAUDP#{providerId} / M#{minute}             links created through the provider that minute (each link
 *                                                 once); TTL
 *   FRAUDOPEN#{rule}#{key} / OPEN                the open incident of a rule and key (one at a time)
 *   INCIDENTS           / INC#{incidentId}       incident: rule, key, counts, state
 *   INCIDENT#{id}       / M#{accountId}#{linkId} accounts and links involved in an incident
 *   CASES               / CASE#{accountId}#{linkId}  reimbursement case (one per revoked link; the alert's
 *                                                 sent / delivered / opened kept with it)
 *   CASEDEBITS#{accountId}#{linkId} / W#{withdrawalId}  debits through a link (from WithdrawalPosted)
 * Sparse GSIs (attribute present only on the items that belong in them):
 *   ByPhone   phoneKey  = PHONE#{e164}            customer profiles, for SMS replies
 *   ByEmail   emailKey  = EMAIL#{lowercased}      customer profiles, for email replies
 *   Audience  audiencePk = {providerId}, audienceSk = {accountId}#{linkId}
 *             links that are PENDING or ACTIVE: the campaign audience, scanned in parallel
 *   AuditByDay auditDay = {yyyy-mm-dd}#{shard 0-7}, sort key sk (AUDIT#{time}#{id})
 *             audit entries by UTC day, for the operations audit export; sharded so that a
 *             mass freeze does not make one index partition hot
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const TTL_ATTRIBUTE = 'ttl';

export interface GsiDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Attributes projected besides keys; 'ALL' copies the whole item. */
  readonly projection: 'KEYS_ONLY' | 'ALL' | readonly string[];
}

export const GSIS: readonly GsiDefinition[] = [
  { indexName: 'ByPhone', partitionKey: 'phoneKey', projection: ['customerId'] },
  { indexName: 'ByEmail', partitionKey: 'emailKey', projection: ['customerId'] },
  {
    indexName: 'Audience',
    partitionKey: 'audiencePk',
    sortKey: 'audienceSk',
    projection: ['accountId', 'linkId', 'providerId', 'providerName', 'state', 'customerId'],
  },
  { indexName: 'AuditByDay', partitionKey: 'auditDay', sortKey: 'sk', projection: 'ALL' },
];

/** Shards of the AuditByDay index; the export queries each and merges by time. */
export const AUDIT_DAY_SHARDS = 8;

export const key = {
  customer: (customerId: string) => ({ pk: `CUST#${customerId}`, sk: 'PROFILE' }),
  account: (accountId: string) => ({ pk: `ACCT#${accountId}`, sk: 'ACCOUNT' }),
  link: (accountId: string, linkId: string) => ({ pk: `ACCT#${accountId}`, sk: `LINK#${linkId}` }),
  alert: (owner: AlertOwner, alertId: string) => ({
    pk: owner.accountId ? `ACCT#${owner.accountId}` : `CUST#${owner.customerId}`,
    sk: `ALERT#${alertId}`,
  }),
  audit: (accountId: string, at: string, entryId: string) => ({ pk: `ACCT#${accountId}`, sk: `AUDIT#${at}#${entryId}` }),
  token: (tokenHash: string) => ({ pk: `TOKEN#${tokenHash}`, sk: 'TOKEN' }),
  send: (alertId: string, channel: string, recipient: string) => ({ pk: `SEND#${alertId}#${channel}#${recipient}`, sk: 'SEND' }),
  providerControl: (providerId: string) => ({ pk: `PROVIDER#${providerId}`, sk: 'CONTROL' }),
  phoneIndex: (e164: string) => `PHONE#${e164}`,
  emailIndex: (email: string) => `EMAIL#${email.trim().toLowerCase()}`,
  auditDay: (at: string, entryId: string) =>
    `${at.slice(0, 10)}#${[...entryId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % AUDIT_DAY_SHARDS}`,
} as const;

export interface AlertOwner {
  accountId?: string | undefined;
  customerId: string;
}

/** Parameters for CreateTable (local runtime and tests); CDK builds the same from TABLE_KEYS/GSIS. */
export function createTableInput(tableName: string) {
  const attrs = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  for (const g of GSIS) {
    attrs.add(g.partitionKey);
    if (g.sortKey) attrs.add(g.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attrs].map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: GSIS.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
        ...(g.sortKey ? [{ AttributeName: g.sortKey, KeyType: 'RANGE' as const }] : []),
      ],
      Projection:
        typeof g.projection === 'string'
          ? { ProjectionType: g.projection }
          : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...g.projection] },
    })),
  };
}
