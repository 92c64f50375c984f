/**
 * The action contract. A step kind ("action", named by `uses:`) is one module exporting an
 * ActionDefinition; src/actions/registry.ts lists them. The engine (src/engine/) never knows what an
 * action does: it calls observe (reads only), plan (pure), apply (writes only the planned changes),
 * and verify (pure), in that order.
 */
import type { z } from 'zod';
import type { SourceLocation } from '../errors.js';
import type { CmdletParameters, ExchangeSession, PsValue } from '../exchange/session.js';
import type { GraphClient } from '../graph/client.js';
import type { SmtpProber } from '../smtp/types.js';

/** One write the plan proposes. Serialisable: it is saved in plan.json and in the journal. */
export interface Change {
  /** Stable within a plan: `${stepId}:${target}:${property}`. */
  id: string;
  stepId: string;
  /** "Organization" or a mailbox's primary SMTP address, or a job title for searches. */
  target: string;
  /**
   * For a mailbox: the immutable id the bulk read returned (Guid). The call names the mailbox by it
   * (an address can be ambiguous); `target` keeps the address for humans.
   */
  targetId?: string;
  property: string;
  before: PsValue;
  after: PsValue;
  /** Why the change is needed, in the reviewer's words. */
  reason: string;
  /** The exact call that makes the change. */
  call: { cmdlet: string; parameters: CmdletParameters };
  /** The call that restores `before` exactly ($null included), or null when the change cannot be undone. */
  undo: { cmdlet: string; parameters: CmdletParameters } | null;
  /**
   * The playbook's acceptance that lets this change run although the runner cannot derive its effect
   * on SMTP AUTH (a powershell step's acceptUnderivedEffect reason). Journaled with the write.
   */
  accepted?: string;
  /** What the action's own apply needs beyond the call (e.g. a search's wait/timeout). Saved with the plan. */
  applyOptions?: { [key: string]: PsValue };
}

/** Something a plan knows that is not a change: already-desired items, notes, and risks. */
export interface Risk {
  /**
   * will-break: a sender loses SMTP AUTH; no-usage-evidence: the plan takes SMTP AUTH away and no
   * usage source the run read covers the window; stale-evidence: a source's period ended more than
   * maxAgeDays before the run (accepted only by acceptStaleEvidence naming it); no-senders: a complete,
   * fresh source saw no SMTP AUTH sender in its period (information, never blocking); unfinished-search:
   * SMTP AUTH would go off before the search the run submits has finished (never acceptable);
   * underived-effect: a powershell step's write whose effect on SMTP AUTH cannot be derived (accepted
   * only by the step's acceptUnderivedEffect); quota; warning.
   */
  kind: 'will-break' | 'no-usage-evidence' | 'stale-evidence' | 'no-senders' | 'unfinished-search' | 'underived-effect' | 'quota' | 'warning';
  /** Who or what is affected, e.g. a sender address. */
  subject: string;
  message: string;
  /** For will-break: messages the sender submitted in the usage window; null when no source counted them (unknown, never 0). */
  messages?: number | null;
  /** For will-break: the usage sources that saw the sender (what a null count comes from). */
  seenBy?: string[];
  /** True when acceptBreakage (playbook or --accept-breakage) covers it, or for no-usage-evidence acceptNoUsageEvidence. */
  accepted?: boolean;
  /** For will-break: the other addresses of the sender's mailbox (primary, proxies, UPN, alias); acceptance by any of them counts. */
  addresses?: string[];
  /** A risk that blocks apply unless accepted (exit 4). */
  blocking: boolean;
}

export interface StepPlan {
  stepId: string;
  uses: string;
  changes: Change[];
  /** What is already as desired, e.g. "Organization SmtpClientAuthenticationDisabled is already True". */
  inDesiredState: string[];
  notes: string[];
  risks: Risk[];
  /** Free-form data the action keeps in plan.json (e.g. the full usage rows). Must be JSON. */
  data?: Record<string, unknown>;
  /** Tables every report shows under the step (text aligned, markdown as a table), e.g. usage. */
  tables?: ReportTable[];
}

/** Tabular data a step wants in the reports; renderers need not know which action made it. */
export interface ReportTable {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface Finding {
  stepId: string;
  /** Short id of the check, e.g. "organization-off", "allowlisted-on", "no-stray-overrides". */
  check: string;
  status: 'pass' | 'fail' | 'warn';
  /** What the finding is about: "Organization", a mailbox address. */
  subject: string;
  message: string;
  /** Structured detail for machine outputs (JSON, --format csv), e.g. a sender's dossier. */
  data?: Record<string, unknown>;
  /** Our stable control id (src/report/controls.ts), set on every finding of a VerifyReport. */
  controlId?: string;
  /** Benchmark controls the check satisfies, e.g. CIS Microsoft 365 Foundations 6.5.4, CISA MS.EXO.5.1v1. */
  references?: { framework: string; id: string; title: string }[];
}

/** What observe and apply may use. Created by the engine per run. */
export interface RunContext {
  session: ExchangeSession;
  /** Memoised shared read: the first caller runs `read`, later callers (other steps) get the same promise. */
  shared<T>(key: string, read: () => Promise<T>): Promise<T>;
  /** Waits; on a simulated tenant this returns at once (simulated time advances per poll). */
  sleep(ms: number): Promise<void>;
  now(): Date;
  /** Progress text for the current task (listr2 output line). */
  report(message: string): void;
  signal: AbortSignal;
  /**
   * The playbook's folder: relative paths in `with` (smtp-auth/usage `report:`) resolve against it.
   * Optional so older engines keep working; actions fall back to process.cwd().
   */
  baseDir?: string;
  /** Folders files named in `with` may be read from (the playbook's folder and its fileRoots); default [baseDir]. */
  fileRoots?: readonly string[];
  /**
   * Microsoft Graph for the same tenant (usage sources), opened on first use. Optional: engines and
   * tests without Graph leave it out, and a step that needs it says so.
   */
  graph?: () => Promise<GraphClient>;
  /** SMTP submission probes (smtp-auth/probe): a real server for `exchange`, the state file for `sim:`. Absent when the engine has none. */
  smtp?: SmtpProber;
  /** The state file of a `sim:` target (smtp-auth/oauth-senders proves against it); absent for a real tenant. */
  simulatedTenant?: string;
}

export interface PlanInput<With, Observed> {
  stepId: string;
  with: With;
  observed: Observed;
  /** The playbook as resolved (for actions that read other steps, e.g. verify reads the allowlist). */
  playbook: ResolvedPlaybookView;
  /** Observations of every step so far, by step id. */
  observations: ReadonlyMap<string, unknown>;
}

/** The slice of a resolved playbook actions may read. */
export interface ResolvedPlaybookView {
  name: string;
  change?: string | undefined;
  acceptBreakage: string[];
  /** The playbook accepts taking SMTP AUTH away without usage evidence, and says why. */
  acceptNoUsageEvidence?: { reason: string } | undefined;
  steps: { id: string; uses: string; with: unknown; continueOnError?: boolean | undefined }[];
  /**
   * Where a value of the resolved playbook was written, by path (e.g. ['steps', 2, 'with', 'mailboxes', 5]);
   * LoadedPlaybook.locate. Optional: without it, errors name the step instead of a line.
   */
  locate?(path: readonly (string | number)[]): SourceLocation | undefined;
  /** For allowlist-derived addresses (lower-cased): where each came from (LoadedPlaybook.origins). */
  origins?: ReadonlyMap<string, readonly SourceLocation[]>;
}

export interface ApplyOutcome {
  /** What was written, as the service reported it (e.g. the JobId of a search). */
  result?: PsValue;
  warnings: string[];
}

export interface ActionDefinition<With = unknown, Observed = unknown> {
  /** The `uses:` name, e.g. "smtp-auth/allowlist". */
  uses: string;
  /** One sentence for docs and `--help`. */
  summary: string;
  /** The schema of this action's resolved `with:` block. */
  withSchema: z.ZodType<With>;
  /** Reads only. The result must be JSON (it is fingerprinted and saved in plans). */
  observe(withValue: With, ctx: RunContext, stepId: string): Promise<Observed>;
  /** Pure. */
  plan(input: PlanInput<With, Observed>): StepPlan;
  /** Writes one change. Default (when absent): run change.call through the session. */
  apply?(change: Change, ctx: RunContext): Promise<ApplyOutcome>;
  /** Pure: findings from a fresh observation. */
  verify(input: PlanInput<With, Observed>): Finding[];
  /**
   * Pure, optional: completes this step's plan once every step planned (the usage dossier needs the
   * SMTP AUTH values the whole plan leaves). Runs before the whole-plan checks.
   */
  completePlan?(input: PlanInput<With, Observed>, own: StepPlan, plans: readonly StepPlan[]): StepPlan;
  /** Optional: after a `verify` command, remember what this run saw for the next one (a local file, never the tenant). */
  record?(withValue: With, observed: Observed, ctx: RunContext, playbook: string): Promise<void>;
  /**
   * Pure: the change that restores a journaled write's before-value, built by this action's own write
   * builder from the journal's values only (never from a call text in the file); null when those
   * values are not a write this action makes; 'no-undo' for a write of this action that has no undo
   * (the powershell escape hatch's verbatim calls). Absent: the action's writes cannot be undone.
   */
  invert?(write: JournaledWrite): Change | 'no-undo' | null;
}

/** The values of a journaled write rollback may trust: what was changed, from what, to what. */
export interface JournaledWrite {
  changeId: string;
  stepId: string;
  target: string;
  targetId?: string | undefined;
  property: string;
  before: PsValue;
  after: PsValue;
}

/** A check over the whole plan after every step planned (e.g. the SMTP AUTH lockout guard). Pure. */
export type PlanCheck = (plans: readonly StepPlan[], input: { playbook: ResolvedPlaybookView; observations: ReadonlyMap<string, unknown> }) => Risk[];
