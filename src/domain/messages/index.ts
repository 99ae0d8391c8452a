/** Rendering of one alert for both channels, in the customer's locale. */
import type { AlertContent, RenderContext } from './content.ts';
import { renderEmail, type RenderedEmail } from './email.ts';
import { renderSms } from './sms.ts';

export type { AlertContent, AlertKind, AlertOrigin, RenderContext } from './content.ts';
export { maskEmail, maskPhone } from './content.ts';
export { renderEmail, escapeHtml, type RenderedEmail } from './email.ts';
export { renderSms, SMS_LIMITS, SmsTooLongError, type SmsOptions } from './sms.ts';
export { smsSize, isGsm7, toGsm7, truncateUnits, type SmsSize, type SmsEncoding } from './sms-segments.ts';

export interface RenderedAlert {
  email: RenderedEmail;
  sms: string;
}

export function renderAlertMessages(content: AlertContent, ctx: RenderContext): RenderedAlert {
  return { email: renderEmail(content, ctx), sms: renderSms(content, ctx.locale, ctx.actionUrl, ctx.sms) };
}
