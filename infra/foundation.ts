/**
 * What every capability shares: the keys, the single table, the event bus, the token pepper (with
 * its rotation), the SES sending identity and configuration set, the SMS configuration set, the
 * delivery-events topic, and the factory that builds every function the same way. Capability
 * constructs (alert pipeline, actions API, replies and delivery, campaigns, monitoring) receive
 * this as their context.
 */
import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as smsvoice from 'aws-cdk-lib/aws-smsvoice';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CORE_SOURCE } from '../events/core.ts';
import { ALERTING_SOURCE } from '../events/alerting.ts';
import type { FunctionName } from '../src/routing.ts';
import { GSIS, TABLE_KEYS, TTL_ATTRIBUTE } from '../src/store/table.ts';
import { ESBUILD, REPO_ROOT, handlerEntry, nodeOptionsFor } from './bundling.ts';
import type { DeployConfig } from './config.ts';
import { acknowledge } from './nag.ts';
import { functionPermissions, type FunctionPermissions } from './permissions.ts';

/** CloudWatch namespace of the Powertools metrics every function emits. */
export const METRICS_NAMESPACE = 'LinkedAccountAlerting';

export interface WatchedQueue {
  readonly name: string;
  readonly queue: sqs.IQueue;
}

/**
 * A queue encrypted with the messaging key whose send grant is exact: SendMessage on this queue
 * and the key only through SQS. (CDK's own grant adds kms:GenerateDataKey* and kms:ReEncrypt*
 * wildcards.) Every capability's `queue.grantSendMessages(fn)` gets this narrower grant.
 */
export class MessagingQueue extends sqs.Queue {
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: Omit<sqs.QueueProps, 'encryption' | 'encryptionMasterKey' | 'enforceSSL'> & { key: kms.IKey }) {
    const { key, ...rest } = props;
    super(scope, id, { ...rest, encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, dataKeyReuse: Duration.minutes(5), enforceSSL: true });
    this.key = key;
  }

  override grantSendMessages(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      resourceArns: [this.queueArn],
      resource: this,
    });
    // AWS services that send (EventBridge, SNS) are allowed in the key policy itself.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
    });
    return grant;
  }
}

export interface FoundationProps {
  readonly config: DeployConfig;
}

export class Foundation extends Construct {
  readonly config: DeployConfig;
  /** Encrypts the table, the pepper secret, the event bus and its archive (events carry contact details). */
  readonly dataKey: kms.Key;
  /** Encrypts queues and topics; the AWS services that write to them are allowed in its policy. */
  readonly messagingKey: kms.Key;
  readonly table: dynamodb.Table;
  /** The system's bus: bank.core events in, bank.alerting events out. */
  readonly bus: events.EventBus;
  readonly pepper: secretsmanager.Secret;
  readonly emailIdentity: ses.EmailIdentity;
  readonly emailConfigurationSet: ses.ConfigurationSet;
  readonly smsConfigurationSetName: string;
  /** ARN of the SMS configuration set (the SMS senders' IAM and the delivery topic's policy name it). */
  readonly smsConfigurationSetArn: string;
  /** SES and SMS delivery events (delivery, bounce, complaint, reject, delay; SMS status). */
  readonly deliveryTopic: sns.Topic;

  /** Every function deployed, by name (functions/<name> and the infra's own, e.g. rotation). */
  readonly functions = new Map<string, NodejsFunction>();
  /** Dead-letter queues: monitoring alarms on any message in them. */
  readonly deadLetterQueues: WatchedQueue[] = [];
  /** Buffers in front of functions: monitoring graphs their depth and age. */
  readonly bufferQueues: WatchedQueue[] = [];

  private actionBaseUrl: string | undefined;

  constructor(scope: Construct, id: string, props: FoundationProps) {
    super(scope, id);
    const cfg = props.config;
    this.config = cfg;
    const stack = Stack.of(this);

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `${cfg.namePrefix}: DynamoDB table, token pepper, event bus and archive`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.messagingKey = new kms.Key(this, 'MessagingKey', {
      description: `${cfg.namePrefix}: queues and topics`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The services that put messages into our encrypted queues/topics need the data key, and only
    // for our account's resources.
    this.messagingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAwsServicesToWriteEncryptedMessages',
        principals: ['events', 'ses', 'sms-voice', 'cloudwatch', 'sns', 'delivery.logs'].map((s) => new iam.ServicePrincipal(`${s}.amazonaws.com`)),
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const g of GSIS) {
      const projection =
        g.projection === 'ALL'
          ? { projectionType: dynamodb.ProjectionType.ALL }
          : g.projection === 'KEYS_ONLY'
            ? { projectionType: dynamodb.ProjectionType.KEYS_ONLY }
            : { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...g.projection] };
      this.table.addGlobalSecondaryIndex({
        indexName: g.indexName,
        partitionKey: { name: g.partitionKey, type: dynamodb.AttributeType.STRING },
        ...(g.sortKey ? { sortKey: { name: g.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
        ...projection,
      });
    }

    // A bus of our own rather than the account's default bus: the core bank's accounts may put
    // only bank.core events on it (resource policy below), AWS service events never mix in, and
    // it has its own archive for replay after an incident.
    // EventBridge encrypts the bus's custom events and the archive with the data key (they carry
    // contact details); CDK adds the key-policy statements for this bus and archive only.
    // Events EventBridge cannot encrypt or decrypt (a key problem) are kept here, not dropped.
    const busDlq = this.deadLetterQueue(this, 'BusDlq', 'event-bus-dlq');
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${cfg.namePrefix}-bus`, kmsKey: this.dataKey, deadLetterQueue: busDlq });
    busDlq.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowTheBusToDeadLetter',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [busDlq.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.bus.eventBusArn } },
      }),
    );
    for (const account of new Set(cfg.coreBank.accountIds)) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `CoreBankPutsCoreEvents${account}`,
          principals: [new iam.AccountPrincipal(account)],
          actions: ['events:PutEvents'],
          resources: [this.bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': CORE_SOURCE } },
        }),
      );
    }
    // The archive, encrypted with the data key too. (CDK's Archive writes a key-policy statement
    // that references the bus's Arn attribute, a dependency cycle key -> bus -> key; the L1 with
    // this statement, on the bus's fixed name, has none.)
    const archiveHolder = new Construct(this.bus, 'Archive');
    new events.CfnArchive(archiveHolder, 'Resource', {
      sourceArn: this.bus.eventBusArn,
      description: 'bank.core and bank.alerting events, for replay after an incident',
      eventPattern: { source: [CORE_SOURCE, ALERTING_SOURCE] },
      retentionDays: cfg.logRetentionDays,
      kmsKeyIdentifier: this.dataKey.keyArn,
    });
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeArchive',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    // Token pepper: JSON {"current","previous"}; the rotation function shifts current to previous,
    // so links sent before a rotation keep working until they expire (rotation > token TTL).
    this.pepper = new secretsmanager.Secret(this, 'TokenPepper', {
      description: `${cfg.namePrefix}: pepper for action-token hashes, JSON {"current","previous"}`,
      encryptionKey: this.dataKey,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'current',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rotation = this.buildFunction(this, 'pepper-rotation', {
      entry: `${REPO_ROOT}/infra/rotation/pepper-rotation.ts`,
      description: 'Rotates the token pepper: {"current": new, "previous": old current}',
      environment: {},
      timeoutSeconds: 30,
      memoryMb: 256,
    });
    this.pepper.addRotationSchedule('Rotation', {
      rotationLambda: rotation,
      automaticallyAfter: Duration.days(cfg.tokens.pepperRotationDays),
    });
    // CDK's permission for Secrets Manager to invoke the rotation function names no source: only
    // this account's secrets may (confused deputy).
    for (const c of rotation.node.children) {
      if (c instanceof lambda.CfnPermission && c.principal === 'secretsmanager.amazonaws.com') c.sourceAccount = stack.account;
    }
    acknowledge(
      rotation.role!.node.findChild('DefaultPolicy'),
      'AwsSolutions-IAM5[Resource::*]',
      'secretsmanager:GetRandomPassword (added by CDK for rotation functions) is an account-level action with no resource ARN; it reads nothing.',
    );

    // Email: the domain identity (Easy DKIM, custom MAIL FROM for SPF alignment) and a
    // configuration set that requires TLS, keeps the account-level suppression list for bounces
    // and complaints, and publishes every delivery event.
    this.deliveryTopic = this.secureTopic('DeliveryEvents', 'SES and SMS delivery events');
    this.emailConfigurationSet = new ses.ConfigurationSet(this, 'EmailConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.emailConfigurationSet.addEventDestination('ToDeliveryTopic', {
      destination: ses.EventDestination.snsTopic(this.deliveryTopic),
      events: [
        // SEND proves the provider accepted a message: a campaign worker restarted after a crash
        // settles its in-doubt recipients from it (src/delivery/campaign-sends.ts).
        ses.EmailSendingEvent.SEND,
        ses.EmailSendingEvent.DELIVERY,
        ses.EmailSendingEvent.BOUNCE,
        ses.EmailSendingEvent.COMPLAINT,
        ses.EmailSendingEvent.REJECT,
        ses.EmailSendingEvent.DELIVERY_DELAY,
        ses.EmailSendingEvent.RENDERING_FAILURE,
      ],
    });
    this.emailIdentity = new ses.EmailIdentity(this, 'SenderIdentity', {
      identity: ses.Identity.domain(cfg.email.senderDomain),
      mailFromDomain: `mail.${cfg.email.senderDomain}`,
      configurationSet: this.emailConfigurationSet,
    });

    // SMS: an End User Messaging configuration set whose events (delivered, blocked, ...) go to
    // the same delivery topic.
    const smsConfigurationSet = new smsvoice.CfnConfigurationSet(this, 'SmsConfigurationSet', {
      // Named (IAM and the topic policy need its ARN before it exists); not retained, so a rolled
      // back first deploy deletes it and the name is free again.
      configurationSetName: cfg.sms.configurationSetName,
      ...(cfg.sms.senderId ? { defaultSenderId: cfg.sms.senderId } : {}),
      eventDestinations: [
        {
          eventDestinationName: 'ToDeliveryTopic',
          enabled: true,
          matchingEventTypes: ['TEXT_ALL'],
          snsDestination: { topicArn: this.deliveryTopic.topicArn },
        },
      ],
    });
    this.smsConfigurationSetName = cfg.sms.configurationSetName;
    this.smsConfigurationSetArn = stack.formatArn({ service: 'sms-voice', resource: 'configuration-set', resourceName: cfg.sms.configurationSetName });
    // The topic's policy names each publisher with the source it publishes for (confused deputy):
    // SES for this configuration set, End User Messaging for the SMS configuration set.
    const sources: [string, string][] = [
      ['ses', stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.emailConfigurationSet.configurationSetName })],
      ['sms-voice', this.smsConfigurationSetArn],
    ];
    for (const [service, sourceArn] of sources) {
      this.deliveryTopic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Allow${service.replace('-', '')}Publish`,
          principals: [new iam.ServicePrincipal(`${service}.amazonaws.com`)],
          actions: ['sns:Publish'],
          resources: [this.deliveryTopic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': sourceArn } },
        }),
      );
    }
  }

  /**
   * Lets an AWS service publish to one of our topics, for this account's resources only (and, when
   * given, only for the named source): the statement the policy test looks for.
   */
  allowServiceToPublish(topic: sns.Topic, service: string, sourceArn?: string): void {
    const stack = Stack.of(topic);
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Allow${service.replace(/[^A-Za-z0-9]/g, '')}Publish`,
        principals: [new iam.ServicePrincipal(`${service}.amazonaws.com`)],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ...(sourceArn ? { ArnLike: { 'aws:SourceArn': sourceArn } } : {}) },
      }),
    );
  }

  /** The https base of action links; the actions API sets it once the distribution exists. */
  setActionBaseUrl(url: string): void {
    this.actionBaseUrl = url;
  }

  /** An SNS topic encrypted with the messaging key that refuses non-TLS publishers. */
  secureTopic(id: string, displayName: string, scope: Construct = this): sns.Topic {
    return new sns.Topic(scope, id, { displayName, masterKey: this.messagingKey, enforceSSL: true });
  }

  /** A dead-letter queue: encrypted, TLS only, 14 days to investigate and redrive. */
  deadLetterQueue(scope: Construct, id: string, name: string): MessagingQueue {
    const dlq = new MessagingQueue(scope, id, { key: this.messagingKey, retentionPeriod: Duration.days(14) });
    acknowledge(dlq, 'AwsSolutions-SQS3', 'This queue is itself a dead-letter queue; an alarm fires on its first message.');
    this.deadLetterQueues.push({ name, queue: dlq });
    return dlq;
  }

  /** A buffer queue with its own dead-letter queue after `maxReceiveCount` receives. */
  bufferQueue(scope: Construct, id: string, name: string, maxReceiveCount: number, visibilityTimeout: Duration): { queue: MessagingQueue; dlq: MessagingQueue } {
    const dlq = this.deadLetterQueue(scope, `${id}Dlq`, `${name}-dlq`);
    const queue = new MessagingQueue(scope, id, {
      key: this.messagingKey,
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: dlq, maxReceiveCount },
    });
    this.bufferQueues.push({ name, queue });
    return { queue, dlq };
  }

  /**
   * The function for functions/<name>/handler.ts with exactly the grants its permission entry
   * lists. Capability constructs call this for the entry points they wire.
   */
  newFunction(scope: Construct, name: FunctionName, extraEnvironment: Record<string, string> = {}): NodejsFunction {
    const perms = functionPermissions[name];
    const fn = this.buildFunction(scope, name, {
      entry: handlerEntry(name),
      description: `${name} (functions/${name}/handler.ts)`,
      environment: { ...this.runtimeEnvironment(), ...extraEnvironment },
      timeoutSeconds: perms.timeoutSeconds ?? 30,
      memoryMb: perms.memoryMb ?? 512,
    });
    this.grant(fn, perms);
    if (perms.reservedConcurrency) {
      // Its own share of the account's concurrency: a replay or a campaign can never starve it.
      (fn.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = this.config.authorize.reservedConcurrency;
    }
    return fn;
  }

  /** The variables src/config.ts reads, for the AWS world. */
  runtimeEnvironment(): Record<string, string> {
    const cfg = this.config;
    return {
      TABLE_NAME: this.table.tableName,
      EVENT_BUS_NAME: this.bus.eventBusName,
      ACTION_BASE_URL: Lazy.string({
        produce: () => {
          if (!this.actionBaseUrl) throw new Error('ACTION_BASE_URL: the actions API was not composed into the stack');
          return this.actionBaseUrl;
        },
      }),
      SES_FROM_ADDRESS: cfg.email.fromAddress,
      SES_REPLY_TO_ADDRESS: cfg.email.replyToAddress,
      SES_CONFIGURATION_SET: this.emailConfigurationSet.configurationSetName,
      // End User Messaging SMS (src/config.ts): SendTextMessage from this identity through this
      // configuration set, so every SMS has status events.
      SMS_ORIGINATION_IDENTITY: cfg.sms.originationIdentity,
      SMS_CONFIGURATION_SET: this.smsConfigurationSetName,
      SMS_LINKS: cfg.smsLinks,
      SMS_BANK_CONTACT: cfg.sms.bankContact,
      TOKEN_TTL_DAYS: String(cfg.tokens.ttlDays),
      TOKEN_PEPPER_SECRET_ARN: this.pepper.secretArn,
      HOLD_WINDOW_HOURS: String(cfg.holds.windowHours),
      HOLD_LIMIT_MINOR: String(cfg.holds.limitMinor),
      UNDELIVERED_AFTER_MINUTES: String(cfg.delivery.undeliveredAfterMinutes),
      // The provider quotas (src/campaign/config.ts): campaigns are paced to them, never above.
      CAMPAIGN_EMAIL_QUOTA_PER_SECOND: String(cfg.quotas.emailPerSecond),
      CAMPAIGN_SMS_QUOTA_PER_SECOND: String(cfg.quotas.smsPerSecond),
    };
  }

  private buildFunction(
    scope: Construct,
    name: string,
    opts: { entry: string; description: string; environment: Record<string, string>; timeoutSeconds: number; memoryMb: number },
  ): NodejsFunction {
    const cfg = this.config;
    const functionName = `${cfg.namePrefix}-${name}`;
    // No fixed name: the group is retained (a bank keeps its logs), and a retained group with a
    // fixed name would make the next deploy after a rolled-back first one fail ("already exists").
    // CloudFormation names it; the function logs to it through LoggingConfig.
    const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Our own role, without the AWS managed basic-execution policy: it may write its own log group
    // and nothing else until a grant says so.
    const role = new iam.Role(scope, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: least-privilege execution role`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    const fn = new NodejsFunction(scope, name, {
      functionName,
      entry: opts.entry,
      handler: 'handler',
      description: opts.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: opts.memoryMb,
      timeout: Duration.seconds(opts.timeoutSeconds),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}/package-lock.json`,
      environment: {
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: cfg.logLevel,
        POWERTOOLS_DEV: 'false',
        // Stack traces point into the TypeScript sources (source maps are bundled), except where
        // loading the map sits on a waiting caller's path (infra/bundling.ts WITHOUT_SOURCE_MAPS).
        ...(nodeOptionsFor(name) ? { NODE_OPTIONS: nodeOptionsFor(name) } : {}),
        ...opts.environment,
      },
      bundling: {
        target: ESBUILD.target,
        format: OutputFormat.ESM,
        minify: ESBUILD.minify,
        sourceMap: ESBUILD.sourcemap,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: ESBUILD.sourcesContent,
        mainFields: [...ESBUILD.mainFields],
        banner: ESBUILD.banner,
        externalModules: [],
      },
    });
    this.functions.set(name, fn);
    return fn;
  }

  /**
   * Table access on the table and its named indexes only (no `index/*`), and the data key only
   * through DynamoDB (kms:ViaService): the exact actions, no wildcards.
   */
  private grantTable(fn: NodejsFunction, perms: FunctionPermissions): void {
    const stack = Stack.of(this);
    const read = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
    const write = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    const actions = [...read, ...(perms.scan ? ['dynamodb:Scan'] : []), ...(perms.table === 'readWrite' ? write : [])];
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: perms.table === 'readWrite' ? 'TableReadWrite' : 'TableRead',
        actions,
        resources: [this.table.tableArn, ...GSIS.map((g) => `${this.table.tableArn}/index/${g.indexName}`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TableKeyViaDynamoDb',
        actions: perms.table === 'readWrite' ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [this.dataKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
      }),
    );
  }

  private grant(fn: NodejsFunction, perms: FunctionPermissions): void {
    const stack = Stack.of(this);
    const cfg = this.config;
    this.grantTable(fn, perms);
    if (perms.readPepper) this.pepper.grantRead(fn);
    if (perms.putEvents) this.bus.grantPutEventsTo(fn);
    const sesActions = [...(perms.sendEmail ? ['ses:SendEmail'] : []), ...(perms.sendBulkEmail ? ['ses:SendBulkEmail'] : [])];
    if (sesActions.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'SendFromTheBankIdentityOnly',
          actions: sesActions,
          resources: [
            stack.formatArn({ service: 'ses', resource: 'identity', resourceName: cfg.email.senderDomain }),
            stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.emailConfigurationSet.configurationSetName }),
          ],
          conditions: { StringEquals: { 'ses:FromAddress': cfg.email.fromAddress } },
        }),
      );
    }
    if (perms.sendSms) {
      // End User Messaging authorises SendTextMessage on the origination identity and on the
      // configuration set named in the call: exactly these two, so a function can send only from
      // the bank's identity and only with status events on.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'SendSmsFromTheBankIdentityOnly',
          actions: ['sms-voice:SendTextMessage'],
          resources: [cfg.sms.originationIdentity, this.smsConfigurationSetArn],
        }),
      );
    }
  }
}
