/** The simulator's forms build the notifications AWS sends, and refuse incomplete input. */
import { describe, expect, it } from 'vitest';
import { SesReceivedNotification, SmsInboundMessage, SesEventRecord, SmsDeliveryEvent, SnsRecord } from '../events/aws-notifications.ts';
import { runSimulatorForm, SimulatorInputError, simulatorPageHtml } from '../local/reply-simulator.ts';

function capture() {
  const calls: { name: string; event: unknown }[] = [];
  return { calls, run: async (name: 'sms-reply' | 'email-reply' | 'delivery', event: unknown) => void calls.push({ name, event }) };
}
const message = (event: unknown) => {
  const rec = SnsRecord.parse((event as { Records: unknown[] }).Records[0]);
  return JSON.parse(rec.Sns.Message) as unknown;
};

describe('reply simulator', () => {
  it('builds notifications that parse with the AWS contracts', async () => {
    const { calls, run } = capture();
    await runSimulatorForm('/local/reply/sms', new URLSearchParams({ from: '+819012345678', body: '凍結', answers: 'm-1' }), run);
    await runSimulatorForm('/local/reply/email', new URLSearchParams({ from: 'a@example.jp', text: 'FREEZE', dmarc: 'FAIL' }), run);
    await runSimulatorForm('/local/outcome/email', new URLSearchParams({ outcome: 'Bounce', messageId: 'x', to: 'a@example.jp', alertId: 'al-1' }), run);
    await runSimulatorForm('/local/outcome/sms', new URLSearchParams({ outcome: 'TEXT_BLOCKED', messageId: 'y', to: '+819012345678', alertId: 'al-2' }), run);
    await runSimulatorForm('/local/delivery/sweep', new URLSearchParams(), run);
    expect(calls.map((c) => c.name)).toEqual(['sms-reply', 'email-reply', 'delivery', 'delivery', 'delivery']);
    expect(SmsInboundMessage.parse(message(calls[0]!.event))).toMatchObject({ messageBody: '凍結', previousPublishedMessageId: 'm-1' });
    expect(SesReceivedNotification.parse(message(calls[1]!.event)).receipt.dmarcVerdict.status).toBe('FAIL');
    expect(SesEventRecord.parse(message(calls[2]!.event))).toMatchObject({ eventType: 'Bounce', bounce: { bounceType: 'Permanent' }, mail: { tags: { alertId: ['al-1'] } } });
    // End User Messaging's documented event shape, the message's Context included.
    expect(SmsDeliveryEvent.parse(message(calls[3]!.event))).toMatchObject({ eventType: 'TEXT_BLOCKED', messageStatus: 'BLOCKED', isFinal: true, destinationPhoneNumber: '+819012345678', context: { alertId: 'al-2' } });
    expect(calls[4]!.event).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
  });

  it("sets what the outbox's next SMS to a number reports, refusing bad numbers and outcomes", async () => {
    const { calls, run } = capture();
    const injected: [string, readonly string[]][] = [];
    const sms = { injectSmsOutcome: (to: string, events: readonly string[]) => void injected.push([to, events]) };
    await runSimulatorForm('/local/outcome/sms-next', new URLSearchParams({ to: '+819012345678', outcome: 'TEXT_BLOCKED' }), run, sms);
    expect(injected).toEqual([['+819012345678', ['TEXT_BLOCKED']]]);
    await expect(runSimulatorForm('/local/outcome/sms-next', new URLSearchParams({ to: '090-1234', outcome: 'TEXT_BLOCKED' }), run, sms)).rejects.toThrow(/E\.164/);
    await expect(runSimulatorForm('/local/outcome/sms-next', new URLSearchParams({ to: '+819012345678', outcome: 'TEXT_EXPLODED' }), run, sms)).rejects.toThrow(/outcome/);
    expect(injected).toHaveLength(1);
    expect(calls).toHaveLength(0);
  });

  it('refuses missing fields and unknown outcomes', async () => {
    const { calls, run } = capture();
    await expect(runSimulatorForm('/local/reply/sms', new URLSearchParams({ body: 'x' }), run)).rejects.toThrow(SimulatorInputError);
    await expect(runSimulatorForm('/local/outcome/email', new URLSearchParams({ outcome: 'Explode', messageId: 'x', to: 'a@b' }), run)).rejects.toThrow(/outcome/);
    await expect(runSimulatorForm('/local/nope', new URLSearchParams(), run)).rejects.toThrow(SimulatorInputError);
    expect(calls).toHaveLength(0);
  });

  it('the page escapes what it shows', async () => {
    const html = await simulatorPageHtml({
      peers: {
        smsMessages: () => [{ messageId: 'm1', phoneNumber: '+819012345678', message: '<script>alert(1)</script>', at: 't' }],
        emails: async () => [{ messageId: 'e1', to: ['a@example.jp'], subject: '"><img src=x>', at: 't', tags: { alertId: 'al"1' } }],
      },
    });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('"><img');
    expect(html).toContain('value="al&quot;1"');
  });
});
