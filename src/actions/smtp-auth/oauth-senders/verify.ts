/** smtp-auth/oauth-senders, verify (pure): service principals, grants, proofs, SMTP AUTH on, strays. */
import type { ProofRecord } from '../../../engine/journal.js';
import type { Finding } from '../../types.js';
import { MIGRATION_STATE_LABEL, migrationBoard, proofOf } from './board.js';
import { SEND_AS_APP_ROLE } from './grants.js';
import { exclusiveRemovals } from './plan.js';
import { lower, senderGrants, type Input } from './senders.js';

export function verifyOAuthSenders(input: Input): Finding[] {
  const { stepId, observed } = input;
  const findings: Finding[] = [];
  for (const app of input.with.applications) {
    const sp = observed.servicePrincipals.find((p) => p.AppId === lower(app.appId));
    findings.push({
      stepId,
      check: 'oauth-service-principal',
      status: sp && sp.ObjectId === lower(app.servicePrincipalObjectId) ? 'pass' : 'fail',
      subject: app.displayName,
      message: !sp ? `no service principal for app ${lower(app.appId)} in Exchange` : sp.ObjectId === lower(app.servicePrincipalObjectId) ? `service principal ${sp.ObjectId} for app ${sp.AppId}` : `Exchange's service principal for app ${sp.AppId} has object id ${sp.ObjectId}, the playbook declares ${lower(app.servicePrincipalObjectId)}`,
    });
  }
  const board = migrationBoard(input);
  for (const s of senderGrants(input.with, observed)) {
    const row = board.find((r) => r.appId === s.appId && lower(r.mailbox) === lower(s.mailbox))!;
    const state = row.state;
    findings.push({
      stepId,
      check: 'oauth-granted',
      status: s.granted ? 'pass' : 'fail',
      subject: s.mailbox,
      message:
        (s.granted ? `${s.displayName} may send as it (${s.grant === 'rbac' ? SEND_AS_APP_ROLE : 'FullAccess'})` : `${s.displayName} has no ${s.grant === 'rbac' ? SEND_AS_APP_ROLE + ' role assignment scoped to it' : 'FullAccess on it'}`) +
        `; migration: ${MIGRATION_STATE_LABEL[state]}`,
      data: { app: s.displayName, appId: s.appId, grant: s.grant, migrationState: state, migrationStateLabel: MIGRATION_STATE_LABEL[state], ...(row.basicMessages !== undefined ? { basicMessages: row.basicMessages } : {}) },
    });
    const proof = proofOf(observed, s.appId, s.mailbox);
    if (s.granted && proof) {
      findings.push({
        stepId,
        check: 'oauth-proven',
        status: proof.outcome === 'proven' ? 'pass' : proof.outcome === 'not-run' ? 'warn' : 'fail',
        subject: s.mailbox,
        message:
          proof.outcome === 'proven'
            ? `OAuth proven: ${s.displayName} signed in as it with XOAUTH2 (${proof.evidence})`
            : proof.outcome === 'not-run'
              ? `${s.displayName}: ${proof.meaning}`
              : `${s.displayName}: ${proof.meaning}; ${proof.outcome === 'no-token' ? 'Entra said' : 'server said'}: ${proof.evidence}`,
        data: { app: s.displayName, appId: s.appId, outcome: proof.outcome, meaning: proof.meaning, evidence: proof.evidence, provedAt: proof.at, migrationState: state },
      });
    }
    if (state === 'oauth-proven' && row.basicMessages !== undefined && row.basicMessages !== 0) {
      findings.push({
        stepId,
        check: 'oauth-basic-still-used',
        status: 'warn',
        subject: s.mailbox,
        message: `proven on OAuth, but the usage evidence still shows ${row.basicMessages === null ? 'Basic submissions (count unknown)' : `${row.basicMessages} Basic submission(s)`} by it: the device or app still sends with Basic; switch it to OAuth before Basic goes off`,
      });
    }
    if (!s.smtpAuthOn) {
      findings.push({ stepId, check: 'oauth-smtp-auth-on', status: 'fail', subject: s.mailbox, message: 'SMTP AUTH is off for it: OAuth submission is refused too (5.7.139)' });
    }
  }
  if (input.with.exclusive) {
    const stray = exclusiveRemovals(input);
    for (const c of stray) findings.push({ stepId, check: 'oauth-no-stray-grants', status: 'fail', subject: c.target, message: c.reason.replace(/^exclusive: /, '') });
    if (stray.length === 0) findings.push({ stepId, check: 'oauth-no-stray-grants', status: 'pass', subject: SEND_AS_APP_ROLE, message: 'no role assignment the playbook does not name' });
  }
  return findings;
}

/**
 * The journal's `proof` records (src/engine/journal.ts) of a verify after apply: one per
 * `oauth-proven` finding, with the outcome, its meaning and the server's line (never a token).
 */
export function proofJournalRecords(findings: readonly Finding[]): Omit<ProofRecord, 'seq' | 'at'>[] {
  return findings
    .filter((f) => f.check === 'oauth-proven' && f.data !== undefined)
    .map((f) => {
      const d = f.data as { app: string; appId: string; outcome: ProofRecord['outcome']; meaning: string; evidence: string; provedAt: string };
      return { type: 'proof', stepId: f.stepId, app: d.app, appId: d.appId, mailbox: f.subject, outcome: d.outcome, meaning: d.meaning, evidence: d.evidence, provedAt: d.provedAt };
    });
}
