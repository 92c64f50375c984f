/**
 * `smtp-auth/probe`: settings are not behaviour. The probe signs in to the submission endpoint as a
 * canary mailbox, the way a device does, stops before sending anything (never MAIL FROM), and records
 * the server's exact answer with its meaning. `expect` says what it should find; verify reports
 * anything else as drift, with the evidence line.
 *
 * A probe that reaches no server (DNS, connect, timeout, TLS) or whose mechanism the server does not
 * offer fails the step (exit 1): it learned nothing about the tenant, so it is never drift.
 *
 * When Basic is refused with "basic authentication is disabled" although the tenant's own switches
 * and authentication policies allow it, the step says that Microsoft's default change (Basic SMTP
 * AUTH off by default for existing tenants from the end of December 2026; Exchange Team blog, 27
 * January 2026) is a likely cause, with its evidence: Microsoft has published no reply text for that
 * state (EXCHANGE-FACTS), so it is an inference, never a fact.
 */
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError, SessionError } from '../../errors.js';
import { probeWith } from '../../playbook/schema.js';
import { classifyAnswer, notAnAnswer, type ProbeOutcome } from '../../smtp/classify.js';
import type { ProbeMechanism, ProbeRequest } from '../../smtp/types.js';
import type { ActionDefinition, Finding, PlanInput, RunContext, StepPlan } from '../types.js';
import { blockingPolicy, observeAuthenticationPolicies } from './authentication-policies.js';
import { effectiveSmtpAuthDisabled, psLiteral, toTriState } from './effective.js';
import { readOrganizationDisabled } from './mailbox-directory.js';

export type ProbeWith = z.infer<typeof probeWith>;

/** What the tenant's own settings say about the canary, read when Basic was refused as "disabled". */
export interface CanarySettings {
  organizationDisabled: boolean;
  mailboxValue: boolean | null;
  /** The authentication policy that blocks Basic SMTP AUTH for the canary, or null. */
  blockingPolicy: string | null;
}

export interface ProbeObservation {
  kind: 'smtp-probe';
  mailbox: string;
  mechanism: ProbeMechanism;
  endpoint: string;
  outcome: ProbeOutcome;
  meaning: string;
  /** null unless read (Basic refused as "basic authentication is disabled"), or the mailbox was not found. */
  settings: CanarySettings | null;
  /** Changes on every probe without the tenant changing: shown, never fingerprinted (engine/fingerprint.ts). */
  volatile: {
    /** The server's exact line, or the transport failure. */
    evidence: string;
    /** When the answer came (ISO-8601 UTC). */
    probedAt: string;
    /** The conversation, AUTH lines replaced. */
    transcript: string[];
  };
}

const MECHANISM: Record<ProbeWith['auth'], ProbeMechanism> = { basic: 'LOGIN', 'basic-plain': 'PLAIN', oauth: 'XOAUTH2' };

export function probeRequestOf(w: ProbeWith, baseDir: string): ProbeRequest {
  const mechanism = MECHANISM[w.auth];
  const reference = mechanism === 'XOAUTH2' ? w.token : w.password;
  return {
    host: w.host,
    port: w.port,
    mailbox: w.mailbox,
    mechanism,
    secret: reference === undefined ? { kind: 'tenant-credential' } : { kind: 'reference', reference },
    ...(w.caFile ? { caFile: isAbsolute(w.caFile) ? w.caFile : resolve(baseDir, w.caFile) } : {}),
    timeoutMs: w.timeoutSeconds * 1000,
    clientName: 'exo-playbook-probe',
  };
}

async function observeProbe(w: ProbeWith, ctx: RunContext): Promise<ProbeObservation> {
  if (!ctx.smtp) {
    throw new SessionError(
      'smtp-auth/probe talks SMTP, not PowerShell, and this run has no SMTP prober (it reads Get-CASMailbox, Get-TransportConfig and the authentication policies only when Basic is refused as disabled)',
    );
  }
  const request = probeRequestOf(w, ctx.baseDir ?? process.cwd());
  ctx.report(`probing ${w.host}:${w.port} as ${w.mailbox} (${request.mechanism})`);
  const answer = await ctx.smtp.probe(request, ctx.signal);
  const classified = classifyAnswer(answer);
  if (classified.kind !== 'answer') {
    const { message, hint } = notAnAnswer(classified, `${w.host}:${w.port}`);
    throw classified.kind === 'unreachable' ? new SessionError(`smtp-auth/probe of ${w.mailbox}: ${message}; ${hint}`) : new InputError(`smtp-auth/probe of ${w.mailbox}: ${message}`, undefined, hint);
  }
  const basicRefusedAsDisabled = request.mechanism !== 'XOAUTH2' && classified.outcome === 'basic-auth-blocked';
  return {
    kind: 'smtp-probe',
    mailbox: w.mailbox,
    mechanism: request.mechanism,
    endpoint: `${w.host}:${w.port}`,
    outcome: classified.outcome,
    meaning: classified.meaning,
    settings: basicRefusedAsDisabled ? await readCanarySettings(w.mailbox, ctx) : null,
    volatile: { evidence: classified.evidence, probedAt: answer.at, transcript: answer.transcript },
  };
}

/** The switches and the authentication policy that apply to the canary; null when the mailbox is not found. */
async function readCanarySettings(mailbox: string, ctx: RunContext): Promise<CanarySettings | null> {
  const { objects, errors } = await ctx.session.invoke('Get-CASMailbox', { Identity: mailbox });
  if (errors.length > 0 || objects.length === 0) return null;
  const [organizationDisabled, policies] = await Promise.all([readOrganizationDisabled(ctx), observeAuthenticationPolicies([mailbox], ctx)]);
  return { organizationDisabled, mailboxValue: toTriState(objects[0]!.SmtpClientAuthenticationDisabled), blockingPolicy: blockingPolicy(policies, mailbox) };
}

export function expectedOutcomes(w: ProbeWith): string[] {
  return Array.isArray(w.expect) ? w.expect : [w.expect];
}

function describeAuth(observed: ProbeObservation): string {
  return observed.mechanism === 'XOAUTH2' ? 'OAuth (XOAUTH2)' : `Basic (AUTH ${observed.mechanism})`;
}

/**
 * Basic refused as "disabled" while the tenant's switches are on for the canary and no authentication
 * policy blocks it: what is left is security defaults, Conditional Access, or Microsoft's default.
 */
export function defaultChangeExplanation(observed: ProbeObservation): string | null {
  const s = observed.settings;
  if (observed.outcome !== 'basic-auth-blocked' || observed.mechanism === 'XOAUTH2' || !s) return null;
  if (effectiveSmtpAuthDisabled(s.mailboxValue, s.organizationDisabled) || s.blockingPolicy !== null) return null;
  const seen = observed.volatile.probedAt.slice(0, 10);
  const timing =
    observed.volatile.probedAt < ANNOUNCED_MONTH
      ? `announced for the end of December 2026, and this probe ran on ${seen}, before that month, which makes it less likely`
      : `announced for the end of December 2026; this probe ran on ${seen}`;
  return (
    `Basic SMTP AUTH was refused on ${seen} with "basic authentication is disabled" (server: ${observed.volatile.evidence}) although the tenant allows it for ${observed.mailbox} ` +
    `(organization SmtpClientAuthenticationDisabled ${psLiteral(s.organizationDisabled)}, mailbox ${psLiteral(s.mailboxValue)}, no authentication policy blocks Basic SMTP). ` +
    `That reply means an authentication policy or the tenant-level block of Basic; with no policy blocking, a likely cause is Microsoft's default change ` +
    `(Basic SMTP AUTH disabled by default for existing tenants; ${timing}). This is an inference, not a fact: Microsoft has published no reply text for that state (the only published one, 550 5.7.30, is for the final removal). ` +
    `What to do: move the device to OAuth (XOAUTH2), High Volume Email, Azure Communication Services Email or a relay; if it must keep Basic for now, ` +
    `re-enable Basic SMTP AUTH with the control Microsoft names for it in the Message Center (none named as of late 2026), then probe again.`
  );
}

/** The month Microsoft's default is announced for (Exchange Team blog, 27 January 2026: "End of December 2026"; no day given). */
const ANNOUNCED_MONTH = '2026-12-01';

function matches(input: PlanInput<ProbeWith, ProbeObservation>): boolean {
  return input.observed.outcome !== 'unknown' && expectedOutcomes(input.with).includes(input.observed.outcome);
}

function headline(input: PlanInput<ProbeWith, ProbeObservation>): string {
  const o = input.observed;
  return `${describeAuth(o)} at ${o.endpoint}: ${o.outcome} (${o.meaning}); server said: ${o.volatile.evidence}`;
}

export function planProbe(input: PlanInput<ProbeWith, ProbeObservation>): StepPlan {
  const o = input.observed;
  const ok = matches(input);
  const explanation = defaultChangeExplanation(o);
  return {
    stepId: input.stepId,
    uses: 'smtp-auth/probe',
    changes: [],
    inDesiredState: ok ? [`probe of ${o.mailbox} found ${o.outcome}, as expected`] : [],
    notes: [
      `probe of ${o.mailbox}: ${headline(input)}`,
      ...(ok ? [] : [`expected ${expectedOutcomes(input.with).join(' or ')}: verify will report drift`]),
      ...(explanation ? [explanation] : []),
    ],
    risks: [],
    tables: [
      {
        title: 'SMTP AUTH probe',
        columns: ['mailbox', 'auth', 'endpoint', 'expected', 'found', 'evidence'],
        rows: [[o.mailbox, describeAuth(o), o.endpoint, expectedOutcomes(input.with).join(' | '), o.outcome, o.volatile.evidence]],
      },
    ],
    // The redacted transcript, kept with the plan in the run directory.
    data: { probedAt: o.volatile.probedAt, transcript: o.volatile.transcript },
  };
}

export function verifyProbe(input: PlanInput<ProbeWith, ProbeObservation>): Finding[] {
  const o = input.observed;
  const ok = matches(input);
  const explanation = defaultChangeExplanation(o);
  const expected = expectedOutcomes(input.with).join(' or ');
  const findings: Finding[] = [
    {
      stepId: input.stepId,
      check: 'probe',
      status: ok ? 'pass' : 'fail',
      subject: o.mailbox,
      message: ok
        ? `${headline(input)}; as expected`
        : `expected ${expected}, found ${o.outcome === 'unknown' ? 'an answer this tool does not know' : o.outcome}. ${headline(input)}`,
    },
  ];
  if (explanation) findings.push({ stepId: input.stepId, check: 'basic-default-change', status: 'warn', subject: o.mailbox, message: explanation });
  return findings;
}

export const probeAction: ActionDefinition<ProbeWith, ProbeObservation> = {
  uses: 'smtp-auth/probe',
  summary: 'Sign in to SMTP submission as a canary mailbox (never sending), record the exact answer, and compare it with what is expected.',
  withSchema: probeWith as unknown as z.ZodType<ProbeWith>,
  observe: (w, ctx) => observeProbe(w, ctx),
  plan: planProbe,
  verify: verifyProbe,
};
