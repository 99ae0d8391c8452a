/**
 * cdk-nag acknowledgements, kept narrow: each names the exact finding (rule plus, for IAM5, the
 * flagged action or resource) on the one construct it applies to, with the reason it is
 * acceptable. cdk-nag 3 uses CDK's own Validations API.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
