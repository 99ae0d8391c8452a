import { describe, expect, it } from 'vitest';
import { SesEventRecord, SmsDeliveryEvent } from '../events/aws-notifications.ts';
import { decideDelivery, mayReplace, sesOutcomes, smsOutcome, deliveryStatuses, type AlertDeliveryView, type ContactView } from '../src/domain/delivery.ts';

const mail = { timestamp: '2026-11-25T00:00:00.000Z', messageId: 'm-1', destination: ['a@example.jp'], tags: { alertId: ['al-1'], channel: ['EMAIL'] } };
const contact: ContactView = { hasEmail: true, emailSuppressed: false, hasPhone: true };
const view = (messages: AlertDeliveryView['messages'], extra: Partial<AlertDeliveryView> = {}): AlertDeliveryView => ({
  alertId: 'al-1', customerId: 'c-1', sentAt: '2026-11-25T00:00:00.000Z', messages, ...extra,
});
const at = (min: number) => new Date(Date.parse('2026-11-25T00:00:00.000Z') + min * 60_000);

describe('delivery status rules', () => {
  it('maps SES events to per-recipient outcomes', () => {
    const hard = SesEventRecord.parse({ eventType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'A@example.jp' }], timestamp: 't' } });
    expect(sesOutcomes(hard)).toEqual([{ channel: 'EMAIL', recipient: 'a@example.jp', status: 'BOUNCED', reason: 'Permanent/General', at: 't', contactProblem: 'HARD_BOUNCE' }]);
    const soft = SesEventRecord.parse({ eventType: 'Bounce', mail, bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'a@example.jp' }], timestamp: 't' } });
    expect(sesOutcomes(soft)[0]).toMatchObject({ status: 'DELAYED' });
    expect(sesOutcomes(soft)[0]?.contactProblem).toBeUndefined();
    const complaint = SesEventRecord.parse({ eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 'a@example.jp' }], timestamp: 't' } });
    expect(sesOutcomes(complaint)[0]).toMatchObject({ status: 'COMPLAINED', contactProblem: 'COMPLAINT' });
    const reject = SesEventRecord.parse({ eventType: 'Reject', mail, reject: { reason: 'Bad content' } });
    expect(sesOutcomes(reject)[0]).toMatchObject({ status: 'REJECTED', recipient: 'a@example.jp' });
    expect(sesOutcomes(SesEventRecord.parse({ eventType: 'Open', mail, open: {} }))).toEqual([]);
    expect(sesOutcomes(SesEventRecord.parse({ eventType: 'Send', mail, send: {} }))).toEqual([]);
  });

  it('maps SMS events; unreachable is a failure only when final', () => {
    const ev = (eventType: string, isFinal?: boolean) =>
      smsOutcome(SmsDeliveryEvent.parse({ eventType, eventTimestamp: 1764028800000, destinationPhoneNumber: '+819012345678', messageId: 'x', ...(isFinal === undefined ? {} : { isFinal }) }));
    expect(ev('TEXT_DELIVERED').status).toBe('DELIVERED');
    expect(ev('TEXT_SUCCESSFUL').status).toBe('DELIVERED');
    expect(ev('TEXT_BLOCKED')).toMatchObject({ status: 'BLOCKED', contactProblem: 'SMS_BLOCKED' });
    expect(ev('TEXT_CARRIER_BLOCKED').contactProblem).toBeUndefined();
    expect(ev('TEXT_UNREACHABLE', false).status).toBe('DELAYED');
    expect(ev('TEXT_UNREACHABLE', true).status).toBe('FAILED');
    expect(() => SmsDeliveryEvent.parse({ eventType: 'TEXT_NONSENSE', eventTimestamp: 1, destinationPhoneNumber: '+1', messageId: 'x' })).toThrow();
  });

  it('never lets a late non-final event undo a final one', () => {
    expect(mayReplace(undefined, 'SENT')).toBe(true);
    expect(mayReplace('SENT', 'DELAYED')).toBe(true);
    expect(mayReplace('DELAYED', 'SENT')).toBe(false);
    expect(mayReplace('DELIVERED', 'DELAYED')).toBe(false);
    expect(mayReplace('DELIVERED', 'COMPLAINED')).toBe(true);
    expect(mayReplace('DELIVERED', 'BOUNCED')).toBe(true);
    expect(mayReplace('BOUNCED', 'DELIVERED')).toBe(false);
    for (const s of deliveryStatuses) expect(mayReplace(s, s)).toBe(false);
  });
});

describe('fallback and escalation decisions', () => {
  it('a hard-bounced email with no SMS sent: send the SMS', () => {
    const d = decideDelivery(view([{ channel: 'EMAIL', recipient: 'a', status: 'BOUNCED' }]), contact, at(1), 15);
    expect(d).toMatchObject({ sendChannels: ['SMS'], reportUndelivered: false });
  });
  it('a blocked SMS with no email sent: send the email, unless the address is suppressed', () => {
    const v = view([{ channel: 'SMS', recipient: '+81', status: 'BLOCKED' }]);
    expect(decideDelivery(v, contact, at(1), 15).sendChannels).toEqual(['EMAIL']);
    const d = decideDelivery(v, { ...contact, emailSuppressed: true }, at(1), 15);
    expect(d).toMatchObject({ sendChannels: [], reportUndelivered: true });
  });
  it('both channels failed: undelivered at once; reported only once', () => {
    const v = view([{ channel: 'EMAIL', recipient: 'a', status: 'BOUNCED' }, { channel: 'SMS', recipient: '+81', status: 'FAILED' }]);
    expect(decideDelivery(v, contact, at(1), 15)).toMatchObject({ sendChannels: [], reportUndelivered: true });
    expect(decideDelivery({ ...v, undeliveredReportedAt: 'x' }, contact, at(20), 15).reportUndelivered).toBe(false);
  });
  it('nothing reached by the deadline: undelivered; before it: check again at the deadline', () => {
    const v = view([{ channel: 'EMAIL', recipient: 'a', status: 'DELAYED' }, { channel: 'SMS', recipient: '+81', status: 'SENT' }]);
    expect(decideDelivery(v, contact, at(5), 15)).toMatchObject({ reportUndelivered: false, checkAgainAt: at(15).toISOString() });
    expect(decideDelivery(v, contact, at(15), 15).reportUndelivered).toBe(true);
  });
  it('any message reached: nothing to do, even when another failed', () => {
    const v = view([{ channel: 'EMAIL', recipient: 'a', status: 'BOUNCED' }, { channel: 'SMS', recipient: '+81', status: 'DELIVERED' }]);
    expect(decideDelivery(v, contact, at(60), 15)).toEqual({ sendChannels: [], reportUndelivered: false });
  });
  it('a contact change alert reached the new address but the old one bounced: reached', () => {
    const v = view([{ channel: 'EMAIL', recipient: 'old', status: 'BOUNCED' }, { channel: 'EMAIL', recipient: 'new', status: 'DELIVERED' }]);
    expect(decideDelivery(v, contact, at(60), 15).reportUndelivered).toBe(false);
  });
});
