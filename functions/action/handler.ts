/**
 * The customer's action page: GET /a/{token} shows what happened and the buttons; POST /a/{token}
 * (from those buttons) freezes the account, revokes the link or confirms it. Public: the token
 * is the credential. Thin: the flow lives in src/domain/action-page/service.ts.
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

const logger = new Logger({ serviceName: 'action' });
const metrics = new Metrics({ serviceName: 'action' });

export const ports: ActionPagePorts = {
  peppers: async () => (await tokenPeppers()).all,
  findToken,
  loadSubject: (r, opts) =>
    loadActionSubject({ accountId: r.accountId, customerId: r.customerId, alertId: r.alertId, linkIds: linkIdsOf(r) }, opts ?? { withAlert: true }),
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

function bodyOf(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

async function actionPage(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext?.http?.method ?? 'GET';
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
