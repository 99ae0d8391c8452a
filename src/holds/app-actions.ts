/**
 * "Deactivate this app" and "it was me" for a cardless-ATM app activation, as for links: one
 * DynamoDB transaction each (the app hold's state on the account item, conditioned on the state
 * read; the token's use; the step-up's writes for "it was me"; the audit entry; the partner event
 * in the outbox), then AppDeactivated / AppConfirmed is published.
 *
 * Deactivating is protective: one tap, allowed on a frozen account, twice changes nothing; from
 * then on every cardless debit on the account is DENY (src/domain/authorize.ts) until operations
 * re-enable. Confirming releases money: refused after a deactivation or a freeze (from any
 * alert), after a freeze or a deactivation from the same token, and, from a token, without the
 * step-up proof (src/store/actions.ts ActionContext.stepUp).
 */
import { ActionRefusedError, FREEZE_KEY, auditFor, outboxPut, outboxed, publishAfterCommit, tokenProblem, tokenUse, transact, type ActionContext, type ActionResult, type TransactItem } from '../store/actions.ts';
import { getAccount } from '../store/customers.ts';
import { tableName } from '../store/db.ts';
import { key } from '../store/table.ts';
import { confirmAppTransition, deactivateAppTransition, reenableTransition, type AppTransition } from '../domain/allowance.ts';
import { auditPut } from '../store/audit.ts';

const MAX_ATTEMPTS = 5;
export const deactivateKey = (activationId: string) => `DEACTIVATE_APP:${activationId}`;

type Verb = 'deactivateApp' | 'confirmApp';

async function changeApp(verb: Verb, accountId: string, activationId: string, ctx: ActionContext): Promise<ActionResult> {
  const at = (ctx.at ?? new Date()).toISOString();
  const confirming = verb === 'confirmApp';
  // "It was me" must not follow a freeze or a deactivation carried by the same alert.
  const alsoUnused = confirming ? [FREEZE_KEY, deactivateKey(activationId)] : [];
  // It releases money: never from a link without the step-up (a scanner has none).
  if (confirming && ctx.token && !ctx.stepUp) throw new ActionRefusedError('ACTION_NOT_AVAILABLE');
  const stepUpItems = confirming ? (ctx.stepUp?.items ?? []) : [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0 && stepUpItems.length > 0 && !(await ctx.stepUp!.stillValid())) throw new ActionRefusedError('ACTION_NOT_AVAILABLE');
    if (ctx.token && (attempt > 0 || alsoUnused.length > 0)) {
      const problem = await tokenProblem(accountId, ctx.token, at, alsoUnused);
      if (problem) throw new ActionRefusedError(problem);
    }
    const account = await getAccount(accountId, true);
    if (!account) throw new ActionRefusedError('UNKNOWN_ACCOUNT');
    const hold = account.apps?.[activationId];
    if (!hold) throw new ActionRefusedError('UNKNOWN_LINK');
    const t: AppTransition = confirming ? confirmAppTransition(hold.state, account.state) : deactivateAppTransition(hold.state);
    if (t.kind === 'REFUSED') throw new ActionRefusedError(t.reason === 'ACCOUNT_FROZEN' ? 'ACCOUNT_FROZEN' : 'ACTION_NOT_AVAILABLE');
    const tokenItems = ctx.token ? [tokenUse(accountId, ctx.token, at, alsoUnused)] : [];
    // DynamoDB refuses names an expression does not use: #s only when the account's state is checked.
    const names: Record<string, string> = { '#apps': 'apps', '#h': activationId, '#st': 'state', ...(confirming ? { '#s': 'state' } : {}) };
    // Confirming also depends on the account not being frozen meanwhile (same item: one condition).
    const accountActive = confirming ? ' AND #s = :active' : '';
    const activeValue = confirming ? { ':active': 'ACTIVE' } : {};
    if (t.kind === 'UNCHANGED') {
      if (tokenItems.length === 0) return { changed: false };
      const ok = await transact([
        {
          ConditionCheck: {
            TableName: tableName(),
            Key: key.account(accountId),
            ConditionExpression: `#apps.#h.#st = :st${accountActive}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':st': t.state, ...activeValue },
          },
        },
        ...tokenItems,
        ...stepUpItems,
      ]);
      if (ok) return { changed: false };
      continue;
    }
    const detail = {
      accountId,
      at,
      actor: ctx.actor,
      appId: hold.appId,
      activationId,
      ...(hold.linkId ? { linkId: hold.linkId } : {}),
      ...(ctx.alertId ? { alertId: ctx.alertId } : {}),
      ...(ctx.operatorId ? { operatorId: ctx.operatorId } : {}),
    };
    const event = outboxed(confirming ? { detailType: 'AppConfirmed', detail } : { detailType: 'AppDeactivated', detail }, at);
    const stamp = confirming ? 'confirmedAt' : 'deactivatedAt';
    const change: TransactItem = {
      Update: {
        TableName: tableName(),
        Key: key.account(accountId),
        UpdateExpression: `SET #apps.#h.#st = :new, #apps.#h.updatedAt = :at, #apps.#h.${stamp} = :at`,
        ConditionExpression: `#apps.#h.#st = :old${accountActive}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':old': t.from, ':new': t.to, ':at': at, ...activeValue },
      },
    };
    const ok = await transact([change, ...tokenItems, ...stepUpItems, auditFor(accountId, ctx, at, verb, `APP#${activationId}`, t.from, t.to), outboxPut(event)]);
    if (!ok) continue;
    const eventPublished = await publishAfterCommit(event);
    return { changed: true, eventPublished };
  }
  throw new ActionRefusedError('CONFLICT');
}

/** "Not me" to the app: DEACTIVATED, and cardless debits on the account are denied from now on. */
export function deactivateApp(accountId: string, activationId: string, ctx: ActionContext): Promise<ActionResult> {
  return changeApp('deactivateApp', accountId, activationId, ctx);
}

/** "It was me" to the app: PENDING -> CONFIRMED, lifting its hold (step-up required from a token). */
export function confirmApp(accountId: string, activationId: string, ctx: ActionContext): Promise<ActionResult> {
  return changeApp('confirmApp', accountId, activationId, ctx);
}

/**
 * Operations only, after checking the customer's identity (like an unfreeze): lifts a "not me"
 * on an app activation, DEACTIVATED -> REENABLED, so cardless withdrawals are decided as usual
 * again (other deactivated activations of the account still deny). Audited with the operator
 * and the verification reference; the core re-activates the device through its own process.
 */
export async function reenableCardless(accountId: string, activationId: string, req: { operatorId: string; verificationRef: string; at?: Date }): Promise<ActionResult> {
  const at = (req.at ?? new Date()).toISOString();
  const account = await getAccount(accountId, true);
  if (!account) throw new ActionRefusedError('UNKNOWN_ACCOUNT');
  const hold = account.apps?.[activationId];
  if (!hold) throw new ActionRefusedError('UNKNOWN_LINK');
  const t = reenableTransition(hold.state);
  if (t.kind !== 'CHANGE') throw new ActionRefusedError('ACTION_NOT_AVAILABLE');
  const ok = await transact([
    {
      Update: {
        TableName: tableName(),
        Key: key.account(accountId),
        UpdateExpression: 'SET #apps.#h.#st = :new, #apps.#h.updatedAt = :at, #apps.#h.reenabledAt = :at, #apps.#h.reenabledBy = :op',
        ConditionExpression: '#apps.#h.#st = :old',
        ExpressionAttributeNames: { '#apps': 'apps', '#h': activationId, '#st': 'state' },
        ExpressionAttributeValues: { ':old': t.from, ':new': t.to, ':at': at, ':op': req.operatorId },
      },
    },
    auditPut({ accountId, at, action: 'reenableCardless', actor: 'OPERATOR', operatorId: req.operatorId, verificationRef: req.verificationRef, target: `APP#${activationId}`, oldState: t.from, newState: t.to }) as TransactItem,
  ]);
  if (!ok) throw new ActionRefusedError('CONFLICT');
  return { changed: true };
}
