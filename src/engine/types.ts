/**
 * The documents the engine produces. Reports (src/report/) render them; plan.json is a PlanDocument.
 */
import type { ServiceErrorParts } from '../exchange/service-error.js';
import type { Finding, Risk, StepPlan } from '../actions/types.js';
import type { PsValue } from '../exchange/session.js';

export interface PlaybookRef {
  name: string;
  /** Path as given on the command line. */
  file: string;
  /** sha256 of the playbook and every file it references, as loaded. */
  hash: string;
  change?: string | undefined;
}

export interface TenantRef {
  organization: string;
  /** "exchange" or "sim:<state.json>" */
  target: string;
}

export interface PlanDocument {
  formatVersion: 1;
  kind: 'plan' | 'rollback';
  playbook: PlaybookRef;
  tenant: TenantRef;
  /** ISO-8601 UTC */
  createdAt: string;
  /** sha256 (hex) over the observed state of every step: applying after the tenant changed is refused. */
  fingerprint: string;
  /** Per-step fingerprints (step id → sha256), so a stale-plan refusal can name what changed. Optional: older plans lack it. */
  stepFingerprints?: Record<string, string>;
  steps: StepPlan[];
  /** Risks from whole-plan checks (e.g. the lockout guard), in addition to each step's own. */
  risks: Risk[];
  summary: { changes: number; inDesiredState: number; blockingRisks: number };
}

export interface ChangeResult {
  changeId: string;
  stepId: string;
  target: string;
  property: string;
  status: 'applied' | 'failed' | 'skipped';
  before: PsValue;
  after: PsValue;
  error?: string;
  /** A failure the service reported, taken apart (code, exception type, text, HTTP status). */
  serviceError?: ServiceErrorParts;
  attempts: number;
  durationMs: number;
  warnings: string[];
  result?: PsValue;
  /** The write's reply was lost and the value was read back to find out (journal.ts ReadBackRecord). */
  readBack?: { verdict: 'applied' | 'not-applied' | 'unknown'; value?: PsValue; error?: string };
}

export interface VerifyReport {
  playbook: PlaybookRef;
  tenant: TenantRef;
  checkedAt: string;
  findings: Finding[];
  summary: { pass: number; fail: number; warn: number };
  compliant: boolean;
  /** verify --only: the steps checked (the others were not read); absent when every step was. */
  only?: string[];
}

export interface ApplyReport {
  plan: PlanDocument;
  /** The run directory holding plan.json, journal.jsonl and summary.md. */
  runDir: string;
  results: ChangeResult[];
  /** The verify that runs after applying. */
  verify?: VerifyReport;
  summary: { applied: number; failed: number; skipped: number };
  interrupted: boolean;
  /** Write cmdlets the engine actually issued (retries included): 0 on a compliant tenant. */
  writeCalls?: number;
}

/**
 * One thing that happened during a run: the --log-file writes one JSON line per event, the
 * line-per-event progress renderer prints them. Secrets never appear in events (parameters are redacted).
 */
export interface RunEvent {
  type:
    | 'run-start'
    | 'connect'
    | 'observe'
    | 'plan'
    | 'confirm'
    | 'change-start'
    | 'change-end'
    | 'retry'
    | 'verify'
    | 'run-end'
    | 'warning'
    | 'error';
  /** ISO-8601 UTC */
  at: string;
  message: string;
  [field: string]: unknown;
}

export interface EventSink {
  emit(event: RunEvent): void;
}
