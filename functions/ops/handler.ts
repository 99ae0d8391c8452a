/**
 * The operations API (/ops/...), for the console and runbooks. Only signed-in operators reach it:
 * API Gateway's JWT authorizer (Cognito) in AWS, the dev login locally; the operator's id is the
 * token's `sub`. Each area answers its own routes (src/ops/<area>.ts); add one line below.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { opsProblem, opsRequestFromEvent, routeOps, type OpsModule } from '../../src/ops/router.ts';
import { handleUnfreezeRequest } from '../../src/ops/unfreeze.ts';
import { handleConsoleRequest } from '../../src/ops/console.ts';
import { handleCampaignRequest } from '../../src/ops/campaigns.ts';
import { handleProviderRequest } from '../../src/fraud/providers/ops.ts';
import { handleIncidentRequest } from '../../src/fraud/detection/ops.ts';
import { handleCaseRequest } from '../../src/fraud/cases/ops.ts';
import { handlePasskeyOps } from '../../src/stepup/ops.ts';
import { handleCardlessOps } from '../../src/holds/ops.ts';

const logger = new Logger({ serviceName: 'ops' });
const metrics = new Metrics({ serviceName: 'ops' });

/** The areas of the operations API, tried in order; each returns undefined for routes not its own. */
const modules: OpsModule[] = [
  handleUnfreezeRequest,
  handleConsoleRequest,
  handleCampaignRequest,
  handleProviderRequest,
  handleIncidentRequest,
  handleCaseRequest,
  // Customers' passkeys (list, remove): src/stepup/ops.ts.
  handlePasskeyOps,
  // Re-enable cardless withdrawals after "not me" (approvers, identity check): src/holds/ops.ts.
  handleCardlessOps,
];

async function ops(event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyStructuredResultV2> {
  const req = opsRequestFromEvent(event);
  if (!req) return opsProblem(401, 'UNAUTHENTICATED', 'an operator sign-in is required');
  try {
    const res = await routeOps(modules, req);
    metrics.addMetric('OpsRequests', MetricUnit.Count, 1);
    logger.info('ops request', { method: req.method, path: req.path, operatorId: req.operatorId, status: res.statusCode });
    return res;
  } catch (e) {
    logger.error('ops request failed', { method: req.method, path: req.path, operatorId: req.operatorId, error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('OpsErrors', MetricUnit.Count, 1);
    return opsProblem(500, 'INTERNAL', 'the request could not be completed; check the account before retrying');
  }
}

export const handler = middy(ops).use(injectLambdaContext(logger)).use(logMetrics(metrics));
