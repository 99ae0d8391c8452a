/**
 * Resource-policy checker over a synthesised CloudFormation template. Every place where an AWS
 * service publishes to, sends to, invokes or writes into one of our resources is read from the
 * template (alarm actions, SES receipt rules and event destinations, End User Messaging event
 * destinations, EventBridge targets and dead-letter queues, SNS subscriptions and their
 * dead-letter queues, API Gateway integrations, secret rotation, WAF log delivery, and topics
 * that declare an outside publisher in metadata), and for each the checker looks for the
 * statement that lets that service principal do it:
 *   - in the target's resource policy (topic policy, queue policy, Lambda permission, log
 *     resource policy), Allow, naming the service, with an aws:SourceAccount / aws:SourceArn
 *     condition (or the Lambda permission's SourceArn / SourceAccount), and no unconditional Deny;
 *   - for an encrypted topic or queue, in its KMS key's policy (kms:GenerateDataKey and
 *     kms:Decrypt); an AWS managed key (alias/aws/...) cannot be opened to a service: reported.
 * Whatever it cannot find is reported, so a deploy that would fail (or silently drop alarms,
 * replies or status events) fails a test instead. See test/infra-policies.test.ts.
 */

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
}
export interface CfnTemplate {
  Resources: Record<string, Resource>;
}
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Json;
  Action?: string | string[];
  Resource?: Json;
  Condition?: Record<string, Record<string, Json>>;
}

/** One thing a service must be allowed to do to one of our resources. */
export interface RequiredGrant {
  /** What asks for it: e.g. "alarm action", "SES receipt rule". */
  readonly kind: string;
  /** Logical id of the resource that makes the service act (alarm, rule, subscription...). */
  readonly source: string;
  readonly principal: string;
  readonly actions: readonly string[];
  /** Logical id of the resource acted on (topic, queue, function, key, log group). */
  readonly target: string;
}

export interface MissingGrant extends RequiredGrant {
  readonly problem: string;
}

/** Template metadata on a topic naming the service principals that publish to it from outside the template. */
export const PUBLISHED_BY = 'LinkedAlerts::PublishedBy';

const KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'] as const;

/** The logical id a Ref / Fn::GetAtt points to, if any. */
function refId(v: Json): string | undefined {
  if (v && typeof v === 'object') {
    const o = v as Record<string, Json>;
    if (typeof o['Ref'] === 'string') return o['Ref'];
    const ga = o['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string') return ga[0];
    if (typeof ga === 'string') return ga.split('.')[0];
  }
  return undefined;
}

/** Every logical id referenced anywhere inside a value. */
function refsIn(v: Json, out: Set<string> = new Set()): Set<string> {
  const id = refId(v);
  if (id) out.add(id);
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) refsIn(x, out);
  return out;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

function namesService(principal: Json, service: string): boolean {
  if (principal === '*') return false;
  if (!principal || typeof principal !== 'object') return false;
  return asArray((principal as Record<string, Json>)['Service'] as string | string[] | undefined).includes(service);
}

function isWildcardPrincipal(principal: Json): boolean {
  if (principal === '*') return true;
  if (principal && typeof principal === 'object') return asArray((principal as Record<string, Json>)['AWS'] as Json).includes('*');
  return false;
}

const CONFUSED_DEPUTY_KEYS = ['aws:sourceaccount', 'aws:sourcearn', 'aws:sourceowner'];
function hasSourceCondition(st: Statement): boolean {
  return Object.values(st.Condition ?? {}).some((byKey) => Object.keys(byKey).some((k) => CONFUSED_DEPUTY_KEYS.includes(k.toLowerCase()) || k.toLowerCase().startsWith('kms:encryptioncontext:aws:events')));
}

/**
 * A CloudFormation string built with Fn::Join (e.g. a log resource policy document) rendered with
 * references as `{"Ref":"X"}`-like placeholders, then parsed: "#REF:X#".
 */
function renderJoined(v: Json): string {
  if (typeof v === 'string') return v;
  const id = refId(v);
  if (id) return `#REF:${id}#`;
  if (v && typeof v === 'object' && Array.isArray((v as Record<string, Json>)['Fn::Join'])) {
    const [sep, parts] = (v as { 'Fn::Join': [string, Json[]] })['Fn::Join'];
    return parts.map(renderJoined).join(sep);
  }
  return JSON.stringify(v);
}

class Checker {
  private readonly r: Record<string, Resource>;
  constructor(t: CfnTemplate) {
    this.r = t.Resources;
  }

  private ofType(type: string): [string, Resource][] {
    return Object.entries(this.r).filter(([, x]) => x.Type === type);
  }

  private typeOf(id: string | undefined): string | undefined {
    return id ? this.r[id]?.Type : undefined;
  }

  /** Everything services are asked to do to our resources, read from the template. */
  required(): RequiredGrant[] {
    const out: RequiredGrant[] = [];
    const to = (kind: string, source: string, principal: string, arn: Json) => {
      const target = refId(arn);
      const type = this.typeOf(target);
      const actions =
        type === 'AWS::SNS::Topic'
          ? ['sns:Publish']
          : type === 'AWS::SQS::Queue'
            ? ['sqs:SendMessage']
            : type === 'AWS::Lambda::Function'
              ? ['lambda:InvokeFunction']
              : type === 'AWS::Logs::LogGroup'
                ? ['logs:CreateLogStream', 'logs:PutLogEvents']
                : [];
      out.push({ kind, source, principal, actions, target: target ?? `(outside this template: ${JSON.stringify(arn)})` });
    };
    for (const [id, a] of this.ofType('AWS::CloudWatch::Alarm')) {
      for (const key of ['AlarmActions', 'OKActions', 'InsufficientDataActions']) {
        for (const arn of asArray(a.Properties?.[key] as Json[])) {
          // Alarm actions that are not topics (EC2/auto scaling actions) are AWS's own.
          if (typeof arn === 'string' && !arn.includes(':sns:')) continue;
          to('alarm action', id, 'cloudwatch.amazonaws.com', arn);
        }
      }
    }
    for (const [id, rule] of this.ofType('AWS::SES::ReceiptRule')) {
      const actions = asArray(((rule.Properties?.['Rule'] as Record<string, Json>)?.['Actions'] ?? []) as Record<string, Record<string, Json>>[]);
      for (const a of actions) {
        if (a['SNSAction']) to('SES receipt rule', id, 'ses.amazonaws.com', a['SNSAction']['TopicArn']);
        if (a['LambdaAction']) to('SES receipt rule', id, 'ses.amazonaws.com', a['LambdaAction']['FunctionArn']);
        if (a['S3Action']?.['TopicArn']) to('SES receipt rule', id, 'ses.amazonaws.com', a['S3Action']['TopicArn']);
      }
    }
    for (const [id, d] of this.ofType('AWS::SES::ConfigurationSetEventDestination')) {
      const sns = (d.Properties?.['EventDestination'] as Record<string, Record<string, Json>>)?.['SnsDestination'];
      if (sns) to('SES event destination', id, 'ses.amazonaws.com', sns['TopicARN']);
    }
    for (const [id, cs] of this.ofType('AWS::SMSVOICE::ConfigurationSet')) {
      for (const d of asArray(cs.Properties?.['EventDestinations'] as Record<string, Record<string, Json>>[])) {
        if (d['SnsDestination']) to('End User Messaging event destination', id, 'sms-voice.amazonaws.com', d['SnsDestination']['TopicArn']);
      }
    }
    for (const [id, topic] of this.ofType('AWS::SNS::Topic')) {
      for (const principal of asArray(topic.Metadata?.[PUBLISHED_BY] as string[])) to('declared publisher', id, principal, { Ref: id });
    }
    for (const [id, rule] of this.ofType('AWS::Events::Rule')) {
      for (const t of asArray(rule.Properties?.['Targets'] as Record<string, Json>[])) {
        // A target with a role is reached with that role's identity policy, not a resource policy.
        if (!t['RoleArn']) to('EventBridge target', id, 'events.amazonaws.com', t['Arn']);
        const dlq = (t['DeadLetterConfig'] as Record<string, Json> | undefined)?.['Arn'];
        if (dlq) to('EventBridge target dead-letter queue', id, 'events.amazonaws.com', dlq);
      }
    }
    for (const [id, bus] of this.ofType('AWS::Events::EventBus')) {
      const dlq = (bus.Properties?.['DeadLetterConfig'] as Record<string, Json> | undefined)?.['Arn'];
      if (dlq) to('event bus dead-letter queue', id, 'events.amazonaws.com', dlq);
      const key = refId(bus.Properties?.['KmsKeyIdentifier']);
      if (key) out.push({ kind: 'event bus encryption', source: id, principal: 'events.amazonaws.com', actions: [...KEY_ACTIONS], target: key });
    }
    for (const [id, archive] of this.ofType('AWS::Events::Archive')) {
      const key = refId(archive.Properties?.['KmsKeyIdentifier']);
      if (key) out.push({ kind: 'event archive encryption', source: id, principal: 'events.amazonaws.com', actions: [...KEY_ACTIONS], target: key });
    }
    for (const [id, sub] of this.ofType('AWS::SNS::Subscription')) {
      const p = sub.Properties ?? {};
      if (p['Protocol'] === 'lambda' || p['Protocol'] === 'sqs') to('SNS subscription', id, 'sns.amazonaws.com', p['Endpoint']);
      const dlq = (p['RedrivePolicy'] as Record<string, Json> | undefined)?.['deadLetterTargetArn'];
      if (dlq) to('SNS subscription dead-letter queue', id, 'sns.amazonaws.com', dlq);
    }
    for (const [id, integration] of this.ofType('AWS::ApiGatewayV2::Integration')) {
      const uri = integration.Properties?.['IntegrationUri'];
      if (this.typeOf(refId(uri)) === 'AWS::Lambda::Function') to('API Gateway integration', id, 'apigateway.amazonaws.com', uri);
    }
    for (const [id, rs] of this.ofType('AWS::SecretsManager::RotationSchedule')) {
      const fn = rs.Properties?.['RotationLambdaARN'];
      if (fn) to('secret rotation', id, 'secretsmanager.amazonaws.com', fn);
    }
    for (const [id, lc] of this.ofType('AWS::WAFv2::LoggingConfiguration')) {
      for (const dest of asArray(lc.Properties?.['LogDestinationConfigs'] as Json[])) {
        const group = [...refsIn(dest)].find((r) => this.typeOf(r) === 'AWS::Logs::LogGroup');
        to('WAF log delivery', id, 'delivery.logs.amazonaws.com', group ? { Ref: group } : dest);
      }
    }
    // Encrypted targets: the service must also be able to use the key.
    for (const g of [...out]) {
      const type = this.typeOf(g.target);
      if (type !== 'AWS::SNS::Topic' && type !== 'AWS::SQS::Queue') continue;
      if (g.principal === 'sns.amazonaws.com' && g.actions.includes('lambda:InvokeFunction')) continue;
      const keyRef = this.r[g.target]!.Properties?.['KmsMasterKeyId'];
      if (keyRef === undefined) continue;
      const key = refId(keyRef);
      out.push({
        kind: `${g.kind} (encrypted target)`,
        source: g.source,
        principal: g.principal,
        actions: [...KEY_ACTIONS],
        target: key ?? `(AWS managed key ${JSON.stringify(keyRef)} of ${g.target})`,
      });
    }
    return out;
  }

  /** The statements of the resource policies that apply to a target. */
  private policyOf(target: string): Statement[] {
    const type = this.typeOf(target);
    const docs = (p: Json) => asArray(((p as Record<string, Json>)?.['Statement'] ?? []) as Statement[]);
    if (type === 'AWS::SNS::Topic') {
      return this.ofType('AWS::SNS::TopicPolicy')
        .filter(([, p]) => asArray(p.Properties?.['Topics'] as Json[]).some((t) => refId(t) === target))
        .flatMap(([, p]) => docs(p.Properties?.['PolicyDocument']));
    }
    if (type === 'AWS::SQS::Queue') {
      return this.ofType('AWS::SQS::QueuePolicy')
        .filter(([, p]) => asArray(p.Properties?.['Queues'] as Json[]).some((q) => refId(q) === target))
        .flatMap(([, p]) => docs(p.Properties?.['PolicyDocument']));
    }
    if (type === 'AWS::KMS::Key') return docs(this.r[target]!.Properties?.['KeyPolicy']);
    if (type === 'AWS::Logs::LogGroup') {
      return this.ofType('AWS::Logs::ResourcePolicy').flatMap(([, p]) => {
        const text = renderJoined(p.Properties?.['PolicyDocument']);
        let doc: Json;
        try {
          doc = JSON.parse(text.replace(/#REF:([A-Za-z0-9]+)#/g, '#REF:$1#'));
        } catch {
          return [];
        }
        return docs(doc).filter((st) => asArray(st.Resource as Json[]).some((res) => typeof res === 'string' && res.includes(`#REF:${target}#`)));
      });
    }
    return [];
  }

  private covers(st: Statement, target: string): boolean {
    const type = this.typeOf(target);
    const resources = asArray(st.Resource as Json[]);
    if (type === 'AWS::KMS::Key') return resources.includes('*');
    if (type === 'AWS::Logs::LogGroup') return true; // filtered by reference already
    return resources.some((res) => res === '*' || refId(res) === target);
  }

  private problemWith(g: RequiredGrant): string | undefined {
    const type = this.typeOf(g.target);
    if (!type) return `the target is not a resource of this template (${g.target}): nothing here can grant it`;
    if (g.actions.length === 0) return `no rule for a target of type ${type}`;
    if (type === 'AWS::Lambda::Function') return this.lambdaProblem(g);
    const statements = this.policyOf(g.target);
    for (const action of g.actions) {
      const deny = statements.find(
        (st) => st.Effect === 'Deny' && !st.Condition && (isWildcardPrincipal(st.Principal) || namesService(st.Principal, g.principal)) && asArray(st.Action).some((a) => actionMatches(a, action)),
      );
      if (deny) return `an unconditional Deny (${deny.Sid ?? 'no sid'}) blocks ${action}`;
      const allows = statements.filter(
        (st) => st.Effect === 'Allow' && namesService(st.Principal, g.principal) && asArray(st.Action).some((a) => actionMatches(a, action)) && this.covers(st, g.target),
      );
      if (allows.length === 0) return `no statement in the ${type} policy allows ${g.principal} to ${action}`;
      if (!allows.some(hasSourceCondition)) return `${g.principal} may ${action} but with no aws:SourceAccount / aws:SourceArn condition (confused deputy)`;
    }
    return undefined;
  }

  private lambdaProblem(g: RequiredGrant): string | undefined {
    const sourceResource = this.r[g.source];
    // The ARN the service invokes from: the rule, the topic of a subscription, the API...
    const sourceArn: Json =
      sourceResource?.Type === 'AWS::SNS::Subscription' ? sourceResource.Properties?.['TopicArn'] : { 'Fn::GetAtt': [g.source, 'Arn'] };
    const sourceIds = refsIn(sourceArn);
    const perms = this.ofType('AWS::Lambda::Permission').filter(
      ([, p]) => refId(p.Properties?.['FunctionName']) === g.target && p.Properties?.['Principal'] === g.principal && actionMatches(String(p.Properties?.['Action']), 'lambda:InvokeFunction'),
    );
    if (perms.length === 0) return `no AWS::Lambda::Permission lets ${g.principal} invoke it`;
    const conditioned = perms.filter(([, p]) => p.Properties?.['SourceArn'] !== undefined || p.Properties?.['SourceAccount'] !== undefined);
    if (conditioned.length === 0) return `${g.principal} may invoke it with no SourceArn / SourceAccount (confused deputy)`;
    if (sourceResource?.Type === 'AWS::SNS::Subscription' || sourceResource?.Type === 'AWS::Events::Rule') {
      const matching = conditioned.some(([, p]) => {
        const arn = p.Properties?.['SourceArn'];
        if (arn === undefined) return true;
        if (JSON.stringify(arn) === JSON.stringify(sourceArn)) return true;
        const ids = refsIn(arn);
        return ids.size > 0 && [...ids].every((i) => sourceIds.has(i) || i === g.source);
      });
      if (!matching) return `the permissions for ${g.principal} name another source than ${g.source}`;
    }
    return undefined;
  }

  missing(): MissingGrant[] {
    return this.required().flatMap((g) => {
      const problem = this.problemWith(g);
      return problem ? [{ ...g, problem }] : [];
    });
  }
}

/** What services must be allowed to do to the template's resources. */
export function requiredGrants(template: CfnTemplate): RequiredGrant[] {
  return new Checker(template).required();
}

/** The required grants the template's resource policies do not give, with the reason. */
export function missingGrants(template: CfnTemplate): MissingGrant[] {
  return new Checker(template).missing();
}

export function describeMissing(m: MissingGrant): string {
  return `${m.kind}: ${m.source} -> ${m.target} (${m.principal} ${m.actions.join(', ')}): ${m.problem}`;
}
