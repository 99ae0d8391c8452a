/**
 * Fixtures of the step-up tests: the action handler against DynamoDB Local with the local SES,
 * SMS outbox and EventBridge peers (codes really go out and are read back from the peers), a
 * customer with phone and email (or one of them), and the page's forms driven as a browser would.
 */
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { setupTestEnv, TEST_PEPPER } from './support/env.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { upsertCustomerProfile } from '../src/store/customers.ts';
import { createLink } from '../src/store/links.ts';
import { issueToken } from '../src/store/tokens.ts';
import { formBody, formFields, httpEvent, invoke, loadHandler, uniq, type Handler } from './action-support.ts';

export interface StepUpEnv {
  peers: LocalPeers;
  handler: Handler;
}

export async function setupStepUpEnv(extra: Record<string, string> = {}): Promise<StepUpEnv> {
  const peers = await startLocalPeers();
  await setupTestEnv({ ...peers.env, EVENT_BUS_NAME: 'default', POWERTOOLS_METRICS_DISABLED: 'true', ...extra });
  resetTokenPeppers();
  return { peers, handler: await loadHandler('action') };
}

export interface Customer {
  customerId: string;
  accountId: string;
  phone?: string;
  email?: string;
}

export async function seedCustomer(opts: { phone?: boolean; email?: boolean; locale?: 'ja' | 'en' } = {}): Promise<Customer> {
  const customerId = uniq('cust');
  const accountId = uniq('acct');
  const n = String(Math.floor(Math.random() * 1e8)).padStart(8, '0');
  const phone = opts.phone === false ? undefined : `+8190${n}`;
  const email = opts.email === false ? undefined : `${customerId}@example.jp`;
  await upsertCustomerProfile({
    eventId: uniq('evt'),
    occurredAt: new Date().toISOString(),
    customerId,
    locale: opts.locale ?? 'ja',
    ...(email ? { email } : {}),
    ...(phone ? { phone } : {}),
    accounts: [{ accountId, last4: '1234' }],
    preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000, marketingOptOut: false },
  });
  return { customerId, accountId, ...(phone ? { phone } : {}), ...(email ? { email } : {}) };
}

export async function seedPendingLink(c: Customer, providerName = 'D-Wallet'): Promise<string> {
  const linkId = uniq('lnk');
  const now = new Date();
  await createLink({
    accountId: c.accountId,
    linkId,
    customerId: c.customerId,
    providerId: 'dwallet',
    providerName,
    linkType: 'EPAY',
    createdAt: now.toISOString(),
    holdUntil: new Date(now.getTime() + 24 * 3_600_000).toISOString(),
  });
  return linkId;
}

/** A link alert's token, as the alert function issues it for one channel's message. */
export async function linkAlertToken(c: Customer, linkId: string, channel: 'EMAIL' | 'SMS' | undefined, alertId = uniq('al')) {
  const { token, record } = await issueToken(
    {
      accountId: c.accountId,
      customerId: c.customerId,
      alertId,
      actions: [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId }, { kind: 'CONFIRM_LINK', linkId }],
      ...(channel ? { channel } : {}),
    },
    { pepper: TEST_PEPPER, ttlDays: 7 },
  );
  return { token, record, alertId };
}

export function page(env: StepUpEnv, token: string) {
  const get = () => invoke(env.handler, httpEvent({ method: 'GET', path: `/a/${token}`, pathParameters: { token } }), 'action');
  const post = (fields: Record<string, string>) =>
    invoke(
      env.handler,
      httpEvent({
        method: 'POST',
        path: `/a/${token}`,
        pathParameters: { token },
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody(fields),
        base64: true,
      }),
      'action',
    );
  return {
    get,
    post,
    /** The page's "it was me" form fields (action + check), read from the page as a browser would. */
    async confirmFields(linkId: string) {
      const f = formFields((await get()).body, `CONFIRM_LINK:${linkId}`);
      if (!f) throw new Error('the page offers no "it was me"');
      return f;
    },
    async sendCode(linkId: string) {
      return post({ ...(await this.confirmFields(linkId)), step: 'send' });
    },
    async typeCode(linkId: string, code: string) {
      return post({ ...(await this.confirmFields(linkId)), step: 'verify', code });
    },
  };
}

/** The 6-digit code in the newest SMS to this number / email to this address. */
export function lastSmsCode(peers: LocalPeers, phone: string): string | undefined {
  const msgs = peers.smsMessages().filter((m) => m.phoneNumber === phone);
  return /\b(\d{6})\b/.exec(msgs.at(-1)?.message ?? '')?.[1];
}

export async function lastEmailCode(peers: LocalPeers, address: string): Promise<string | undefined> {
  const mails = (await peers.emails()).filter((m) => m.to.includes(address) && /確認コード|confirmation code/.test(m.subject));
  return /\b(\d{6})\b/.exec(mails.at(-1)?.text ?? '')?.[1];
}
