/**
 * The customer's action page: GET /a/{token} shows what happened and the buttons; POST /a/{token}
 * (from those buttons) freezes the account or revokes the link at once, or leads "it was me"
 * through the step-up (a code to the other channel). The page's script: GET /a/{token}/passkey.js;
 * its passkey calls: POST /a/{token}/passkey/{op} (JSON). The page's "opened" beacon:
 * POST /a/{token}/opened (the alert's openedAt, once). Public: the token is the credential.
 * Thin: the flows live in src/domain/action-page/ and src/stepup/.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { tokenPeppers } from '../../src/adapters/pepper.ts';
import { findToken } from '../../src/store/tokens.ts';
import { ActionRefusedError, confirmLink, freezeAccount, loadActionSubject, revokeLink, type ActionContext } from '../../src/store/actions.ts';
import { confirmApp, deactivateApp } from '../../src/holds/app-actions.ts';
import { handleActionPage, linkIdsOf, type ActionPagePorts, type ActOutcome } from '../../src/domain/action-page/service.ts';
import { pickLocale } from '../../src/domain/action-page/flow.ts';
import { renderProblemPage } from '../../src/domain/action-page/render.ts';
import { handlePasskeyRequest, type PasskeyPorts } from '../../src/domain/action-page/passkey-flow.ts';
import { handleOpenedBeacon, type OpenedPorts } from '../../src/domain/action-page/opened.ts';
import { recordAlertOpened } from '../../src/store/alert-opened.ts';
import type { TokenAction } from '../../src/domain/tokens.ts';
import type { TokenRecord } from '../../src/store/types.ts';
import {
  confirmWithCode,
  confirmWithPasskey,
  passkeyAuthOptions,
  passkeyRegistrationOptions,
  registerPasskeyFor,
  sendStepUpCode,
  stepUpPolicy,
  stepUpStatus,
  type Release,
} from '../../src/stepup/service.ts';
import { PASSKEY_SCRIPT } from '../../src/stepup/script.ts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

const logger = new Logger({ serviceName: 'action' });
const metrics = new Metrics({ serviceName: 'action' });

/** The store call that releases a releasing action, given the step-up's proof in its context. */
function releaseFor(action: TokenAction, record: TokenRecord): Release {
  if (action.kind === 'CONFIRM_LINK') return (ctx) => confirmLink(record.accountId, action.linkId, ctx);
  if (action.kind === 'CONFIRM_APP') return (ctx) => confirmApp(record.accountId, action.activationId, ctx);
  throw new Error(`not a releasing action: ${action.kind}`);
}

const loadSubject: ActionPagePorts['loadSubject'] = (r, opts) =>
  loadActionSubject({ accountId: r.accountId, customerId: r.customerId, alertId: r.alertId, linkIds: linkIdsOf(r) }, opts ?? { withAlert: true });

export const ports: ActionPagePorts = {
  peppers: async () => (await tokenPeppers()).all,
  findToken,
  loadSubject,
  stepUp: {
    maxAttempts: () => stepUpPolicy().maxAttempts,
    status: stepUpStatus,
    sendCode: sendStepUpCode,
    confirmWithCode: (record, action, key, code, now) => confirmWithCode(record, key, code, now, releaseFor(action, record)),
  },
  async act(action, record, token): Promise<ActOutcome> {
    const ctx: ActionContext = { actor: 'CUSTOMER_WEB', alertId: record.alertId, token };
    try {
      const r =
        action.kind === 'FREEZE_ACCOUNT'
          ? await freezeAccount(record.accountId, ctx)
          : action.kind === 'REVOKE_LINK'
            ? await revokeLink(record.accountId, action.linkId, ctx)
            : action.kind === 'DEACTIVATE_APP'
              ? await deactivateApp(record.accountId, action.activationId, ctx)
              : action.kind === 'CONFIRM_APP'
                ? await confirmApp(record.accountId, action.activationId, ctx)
                : await confirmLink(record.accountId, action.linkId, ctx);
      return { ok: true, changed: r.changed, ...(r.eventPublished !== undefined ? { eventPublished: r.eventPublished } : {}) };
    } catch (e) {
      if (e instanceof ActionRefusedError) return { ok: false, refusal: e.reason };
      throw e;
    }
  },
};

export const passkeyPorts: PasskeyPorts = {
  peppers: ports.peppers,
  findToken,
  loadSubject,
  authOptions: passkeyAuthOptions,
  authVerify: (record, action, key, response, now) => confirmWithPasskey(record, key, response as unknown as AuthenticationResponseJSON, now, releaseFor(action, record)),
  registerOptions: passkeyRegistrationOptions,
  registerVerify: (record, key, secret, response, now) => registerPasskeyFor(record, key, secret, response as unknown as RegistrationResponseJSON, now),
};

/** The beacon goes through the page's own token checks; it only ever sets the alert's openedAt. */
export const openedPorts: OpenedPorts = {
  peppers: ports.peppers,
  findToken,
  loadSubject,
  recordOpened: (record, at) => recordAlertOpened(record, at),
};

/** The script is the same for every token: cacheable, and never a reason to look the token up. */
const SCRIPT_RESPONSE: APIGatewayProxyStructuredResultV2 = {
  statusCode: 200,
  headers: {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=300',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  },
  body: PASSKEY_SCRIPT,
};

async function passkeyCall(event: APIGatewayProxyEventV2, op: string): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const { response, log } = await handlePasskeyRequest(
      {
        token: event.pathParameters?.token ?? '',
        op,
        body: bodyOf(event),
        contentType: event.headers?.['content-type'],
        lang: event.queryStringParameters?.lang,
        now: new Date(),
      },
      passkeyPorts,
    );
    logger.info('passkey call', { status: response.statusCode, ...log });
    metrics.addDimension('outcome', log.outcome);
    metrics.addMetric('PasskeyCalls', MetricUnit.Count, 1);
    return response;
  } catch (e) {
    logger.error('passkey call failed', { op, error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('ActionPageErrors', MetricUnit.Count, 1);
    return { statusCode: 500, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify({ ok: false, error: 'ERROR' }) };
  }
}

async function openedBeacon(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const lang = event.queryStringParameters?.lang;
  const acceptLanguage = event.headers?.['accept-language'];
  try {
    const { response, log } = await handleOpenedBeacon(
      { token: event.pathParameters?.token ?? '', body: bodyOf(event), lang, acceptLanguage, now: new Date() },
      openedPorts,
    );
    // Ids and outcome codes only: never the token.
    logger.info('action page opened', { status: response.statusCode, ...log });
    metrics.addDimension('outcome', log.outcome);
    metrics.addMetric('ActionPageOpened', MetricUnit.Count, 1);
    return response;
  } catch (e) {
    logger.error('opened beacon failed', { error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('ActionPageErrors', MetricUnit.Count, 1);
    return renderProblemPage({ locale: pickLocale(lang, undefined, acceptLanguage), problem: 'ERROR' });
  }
}

function bodyOf(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

async function actionPage(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  if (method === 'GET' && path.endsWith('/passkey.js')) return SCRIPT_RESPONSE;
  const op = event.pathParameters?.op ?? /\/passkey\/([^/]+)$/.exec(path)?.[1];
  if (op === undefined && path.endsWith('/opened')) {
    // Only the beacon's POST; any other method is refused before the token is looked at.
    if (method !== 'POST') {
      const page = renderProblemPage({ locale: pickLocale(event.queryStringParameters?.lang, undefined, event.headers?.['accept-language']), problem: 'BAD_FORM' });
      return { ...page, statusCode: 405, headers: { ...page.headers, allow: 'POST' } };
    }
    return openedBeacon(event);
  }
  if (op !== undefined) {
    if (method !== 'POST') return { statusCode: 405, headers: { allow: 'POST', 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ ok: false, error: 'POST_ONLY' }) };
    return passkeyCall(event, op);
  }
  const lang = event.queryStringParameters?.lang;
  const acceptLanguage = event.headers?.['accept-language'];
  if (method !== 'GET' && method !== 'POST') {
    const page = renderProblemPage({ locale: pickLocale(lang, undefined, acceptLanguage), problem: 'BAD_FORM' });
    return { ...page, statusCode: 405, headers: { ...page.headers, allow: 'GET, POST' } };
  }
  try {
    const { response, log } = await handleActionPage(
      { method, token: event.pathParameters?.token ?? '', lang, acceptLanguage, body: method === 'POST' ? bodyOf(event) : undefined, now: new Date() },
      ports,
    );
    // Ids and outcome codes only: never the token, never contact details.
    logger.info('action page', { method, status: response.statusCode, ...log });
    metrics.addDimension('outcome', log.outcome);
    metrics.addMetric('ActionPageRequests', MetricUnit.Count, 1);
    if (log.eventPublished === false) {
      logger.error('state change committed but its event was not published', { ...log });
      metrics.addMetric('EventPublishFailed', MetricUnit.Count, 1);
    }
    return response;
  } catch (e) {
    logger.error('action page failed', { method, error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('ActionPageErrors', MetricUnit.Count, 1);
    return renderProblemPage({ locale: pickLocale(lang, undefined, acceptLanguage), problem: 'ERROR' });
  }
}

export const handler = middy(actionPage).use(injectLambdaContext(logger)).use(logMetrics(metrics));
