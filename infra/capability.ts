/**
 * The contract between the stack and each capability construct. infra/campaigns.ts (written by
 * the campaigns work) plugs in here: it must export
 *
 *   export class Campaigns extends Construct {
 *     constructor(scope: Construct, id: string, props: CapabilityProps) { ... }
 *   }
 *
 * and build its functions with `props.functionFor('campaign')` (or foundation.newFunction for
 * further entry points listed in src/routing.ts functionNames), its queues with
 * foundation.bufferQueue / deadLetterQueue, so grants, monitoring and alarms cover them (their
 * grantSendMessages is narrowed to exact actions; see MessagingQueue in infra/foundation.ts).
 */
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import type { FunctionName } from '../src/routing.ts';
import type { Foundation } from './foundation.ts';

export interface CapabilityProps {
  readonly foundation: Foundation;
  /** The function of functions/<name>/handler.ts, created on first use; undefined if not written yet. */
  readonly functionFor: (name: FunctionName) => NodejsFunction | undefined;
}

export type CapabilityConstruct = new (scope: Construct, id: string, props: CapabilityProps) => Construct;
