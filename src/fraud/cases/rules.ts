/**
 * Reimbursement case states, in plain TypeScript: OPEN -> REVIEWED -> REPAID | REJECTED, and
 * OPEN -> REJECTED. REPAID needs a second operator: not the one who reviewed the case (the
 * reviewer sets what is owed; someone else confirms the payment). Every transition names a
 * reason or reference.
 */
export type CaseState = 'OPEN' | 'REVIEWED' | 'REPAID' | 'REJECTED';
export type CaseVerb = 'review' | 'repay' | 'reject';

export type CaseTransition = { ok: true; from: CaseState; to: CaseState } | { ok: false; code: 'WRONG_STATE' | 'SAME_OPERATOR'; message: string };

export function caseTransition(verb: CaseVerb, state: CaseState, operatorId: string, reviewedBy?: string): CaseTransition {
  const wrong = (msg: string): CaseTransition => ({ ok: false, code: 'WRONG_STATE', message: msg });
  switch (verb) {
    case 'review':
      return state === 'OPEN' ? { ok: true, from: state, to: 'REVIEWED' } : wrong(`a ${state} case cannot be reviewed`);
    case 'repay':
      if (state !== 'REVIEWED') return wrong(`only a REVIEWED case can be repaid (this one is ${state})`);
      if (reviewedBy === operatorId) return { ok: false, code: 'SAME_OPERATOR', message: 'the repayment must be confirmed by a different operator from the reviewer' };
      return { ok: true, from: state, to: 'REPAID' };
    case 'reject':
      return state === 'OPEN' || state === 'REVIEWED' ? { ok: true, from: state, to: 'REJECTED' } : wrong(`a ${state} case cannot be rejected`);
  }
}

/** Amounts owed per currency, from the debits (minor units). */
export function totalsOf(debits: readonly { amount: number; currency: string }[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const d of debits) t[d.currency] = (t[d.currency] ?? 0) + d.amount;
  return t;
}

/** Age in whole days (what the console shows beside "oldest unpaid"). */
export const ageDays = (openedAt: string, now: Date) => Math.max(0, Math.floor((now.getTime() - Date.parse(openedAt)) / 86_400_000));

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  // Spreadsheet formula injection: a cell starting with = + - @ is read as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};
export const csvLine = (cells: readonly unknown[]) => cells.map(csvCell).join(',') + '\r\n';
