/**
 * Fraud-operations settings, from the environment like src/config.ts and validated the same way
 * (a bad value fails with the setting's name). The detection rules live here, so a bank can tune
 * them per deployment without a code change.
 */
import * as z from 'zod';

const positiveInt = z.coerce.number().int().positive();

export const FraudConfig = z.object({
  /** Rule ACCOUNTS_PER_IP / ACCOUNTS_PER_DEVICE: this many distinct accounts ... */
  FRAUD_ACCOUNTS_THRESHOLD: z.coerce.number().int().min(2).default(5),
  /** ... from one origin IP or device within this many minutes. */
  FRAUD_ACCOUNTS_WINDOW_MINUTES: positiveInt.max(120).default(10),
  /** Rule PROVIDER_LINK_RATE: a provider's links in the window at least this many times its trailing hourly baseline ... */
  FRAUD_PROVIDER_RATE_MULTIPLIER: z.coerce.number().positive().default(5),
  /** ... and at least this many links (a quiet provider's first links are no attack). */
  FRAUD_PROVIDER_RATE_MIN_LINKS: positiveInt.default(10),
  /** Rule CONTACT_CHANGE_THEN_LINK: a link on an account within this many minutes after a contact change of its customer. */
  FRAUD_CONTACT_LINK_MINUTES: positiveInt.max(1440).default(60),
  /**
   * Entries one origin's counter bucket (an IP or device, two windows long) may hold; an item is
   * at most 400 KB. A key that reaches it is treated as firing its rule: flooding cannot blind
   * detection. (Redeliveries count again here, so a bucket fills slightly early, never late.)
   */
  FRAUD_BUCKET_CAP: positiveInt.max(6_000).default(4_000),
  /** Links in an incident are held until at least this many hours after their creation. */
  FRAUD_INCIDENT_HOLD_HOURS: positiveInt.max(24 * 90).default(168),
  /** Provider control requests wait this long for their second operator. */
  FRAUD_REQUEST_TTL_HOURS: positiveInt.default(24),
});
export type FraudConfig = z.infer<typeof FraudConfig>;

let cached: FraudConfig | undefined;
export function fraudConfig(): FraudConfig {
  if (!cached) {
    const r = FraudConfig.safeParse(process.env);
    if (!r.success) throw new Error(`invalid fraud configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    cached = r.data;
  }
  return cached;
}
export function resetFraudConfig(): void {
  cached = undefined;
}
