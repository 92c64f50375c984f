/**
 * Opening the session for a run: the target normalised (a sim path made absolute, so the lock key and
 * the plan name one file whatever the cwd), the cmdlets limited to what the command may do, and
 * read-only commands given a session that refuses writes.
 */
import { isAbsolute, resolve } from 'node:path';
import type { RunContext } from '../actions/types.js';
import { ALLOWED_CMDLETS, isWriteCmdlet, type ExchangeSession } from '../exchange/session.js';
import { InputError } from '../errors.js';
import type { AuthConfig } from '../playbook/schema.js';
import { createRunContext } from './context.js';
import type { EngineDeps } from './deps.js';
import type { Emitter } from './events.js';
import type { PlaybookSource } from './playbook-source.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { readOnlySession, retryingReads } from './session-guards.js';
import { countingReads } from './progress.js';

export function normalizeTarget(target: string, cwd: string): string {
  if (target === 'exchange') return target;
  const sim = /^sim:(.+)$/.exec(target);
  if (sim) return `sim:${isAbsolute(sim[1]!) ? sim[1] : resolve(cwd, sim[1]!)}`;
  throw new InputError(`--target ${target} is not a target`, undefined, 'use --target exchange or --target sim:<state.json>');
}

export const READ_CMDLETS = ALLOWED_CMDLETS.filter((c) => !isWriteCmdlet(c));
export const ALL_CMDLETS = ALLOWED_CMDLETS.filter((c) => !/^(Connect|Disconnect)-/.test(c));

export interface OpenedRun {
  session: ExchangeSession;
  /**
   * Opens one more session on the same target, signed in and wrapped like `session` (the write pool).
   * `signal` abandons it: a host still starting or signing in is killed. Optional: test doubles may omit it.
   */
  openExtra?: (signal?: AbortSignal) => Promise<ExchangeSession>;
  /** Kills (or signs out) the early extra sessions (`extraSessions`) that `openExtra` never handed out. Optional: test doubles may omit it. */
  abandonExtras?: () => Promise<void>;
  /**
   * A context with its own shared reads; `seed` pre-fills some of them (verify-after-write.ts);
   * `reader` replaces the run's session for its calls (apply --concurrency: spread-reads.ts).
   */
  newContext(signal?: AbortSignal, seed?: ReadonlyMap<string, Promise<unknown>>, reader?: ExchangeSession): RunContext;
}

export async function openRunSession(
  deps: EngineDeps,
  source: PlaybookSource,
  target: string,
  options: {
    env: NodeJS.ProcessEnv;
    readOnly: boolean;
    emitter: Emitter;
    onDeviceCode?: (message: string) => void;
    wrap?: (s: ExchangeSession) => ExchangeSession;
    retry?: RetryPolicy;
    auth?: AuthConfig;
    /**
     * How many extra sessions the write pool will want (apply --concurrency N: N - 1). Their hosts
     * start once the run's own host has started and sign in once it has signed in, while it reads;
     * `openExtra` hands them out first.
     */
    extraSessions?: number;
  },
): Promise<OpenedRun> {
  options.emitter.emit('connect', `connecting to ${source.playbook.tenant.organization} (${target})${options.readOnly ? ', read-only' : ''}`, { target });
  const openTarget = (signal?: AbortSignal, order: { onStarted?: () => void; signInAfter?: Promise<void> } = {}) =>
    deps.openTarget(target, options.auth ? { ...source.playbook.tenant, auth: options.auth } : source.playbook.tenant, {
      env: options.env,
      baseDir: source.baseDir,
      cmdlets: options.readOnly ? READ_CMDLETS : ALL_CMDLETS,
      ...(options.onDeviceCode ? { onDeviceCode: options.onDeviceCode } : {}),
      log: (message) => options.emitter.emit('connect', message),
      ...(signal ? { signal } : {}),
      ...order,
    });
  // A second sign-in on the same target, for the write pool (session-pool.ts). Not with device-code
  // sign-in: each extra session would make the person at the terminal type another code.
  const extrasAllowed = !(source.playbook.tenant.auth.method === 'device-code' && !target.startsWith('sim:')) && !options.readOnly;
  const signInStarted = Date.now();
  // The extra hosts start once the run's own host has started (its module imported), while it signs in
  // and reads, and sign in once it has signed in: a refused sign-in is tried once, not three times, and
  // their starts (mostly CPU: ~0.6 s each) neither slow the run's own start on a small machine nor
  // leave the first writes to the run's own session alone while they sign in.
  let ownStarted: () => void = () => undefined;
  const hostStarted = new Promise<void>((resolve) => (ownStarted = resolve));
  const own = openTarget(undefined, { onStarted: () => ownStarted() });
  // An opener that never reports the start (a test double) lets them start once it has signed in.
  own.then(
    () => ownStarted(),
    () => ownStarted(),
  );
  let ownSignIn: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const early: { opening: Promise<ExchangeSession>; abandon: AbortController }[] = [];
  if (extrasAllowed && (options.extraSessions ?? 0) > 0) {
    const signedIn = new Promise<void>((resolve, reject) => (ownSignIn = { resolve, reject }));
    signedIn.catch(() => undefined);
    for (let i = 0; i < options.extraSessions!; i++) {
      const abandon = new AbortController();
      const opening = hostStarted.then(() =>
        abandon.signal.aborted ? Promise.reject(new Error('no longer needed: the run ended before its writes')) : openTarget(abandon.signal, { signInAfter: signedIn }),
      );
      opening.catch(() => undefined);
      early.push({ opening, abandon });
    }
  }
  // Early extra sessions nobody took (the run stopped before its writes): killed, or signed out when
  // they already signed in.
  const abandonExtras = async (): Promise<void> => {
    await Promise.all(
      early.splice(0).map(async ({ opening, abandon }) => {
        abandon.abort();
        const extra = await opening.catch(() => undefined);
        await extra?.close().catch(() => undefined);
      }),
    );
  };
  let raw: ExchangeSession;
  try {
    raw = await own;
  } catch (error) {
    // The run's own sign-in failed: the early hosts never sign in; they are gone before this throws.
    ownSignIn?.reject(error);
    await abandonExtras();
    throw error;
  }
  ownSignIn?.resolve();
  options.emitter.emit('connect', `signed in to ${source.playbook.tenant.organization} in ${((Date.now() - signInStarted) / 1000).toFixed(1)} s`, { target });
  const instantSleep = raw.kind === 'simulator';
  // Every session of the run (the pool's extra ones too) gets the same guards and wrapper.
  const guard = (opened: ExchangeSession): ExchangeSession => {
    const retried = retryingReads(opened, {
      policy: options.retry ?? DEFAULT_RETRY,
      sleep: (ms) => (instantSleep ? Promise.resolve() : new Promise((r) => setTimeout(r, ms))),
      onRetry: (cmdlet, attempt, delayMs) => options.emitter.emit('retry', `${cmdlet}: throttled; retry ${attempt + 1} in ${delayMs} ms`, { cmdlet, attempt, delayMs }),
    });
    // Bulk reads report a running count (progress.ts).
    const counted = countingReads(retried, options.emitter);
    const guarded = options.readOnly ? readOnlySession(counted) : counted;
    return options.wrap ? options.wrap(guarded) : guarded;
  };
  const session = guard(raw);
  // Probes talk SMTP, not PowerShell: a prober only when a step needs one.
  const needsProber = source.playbook.steps.some((step) => step.uses === 'smtp-auth/probe');
  let smtp;
  try {
    smtp =
      needsProber && deps.openProber
        ? await deps.openProber(target, source.playbook.tenant, { env: options.env, baseDir: source.baseDir, ...(options.onDeviceCode ? { onDeviceCode: options.onDeviceCode } : {}) })
        : undefined;
  } catch (error) {
    await Promise.all([abandonExtras(), session.close().catch(() => undefined)]);
    throw error;
  }
  const openExtra = async (signal?: AbortSignal): Promise<ExchangeSession> => {
    const next = early.shift();
    if (!next) return guard(await openTarget(signal));
    // An early host: abandoning it now kills it wherever it is (starting, waiting, signing in).
    if (signal?.aborted) next.abandon.abort();
    else signal?.addEventListener('abort', () => next.abandon.abort(), { once: true });
    return guard(await next.opening);
  };
  return {
    session,
    ...(extrasAllowed ? { openExtra } : {}),
    abandonExtras,
    // One context per phase: a fresh observation (verify after apply) must not reuse cached reads.
    newContext: (signal, seed, reader) =>
      createRunContext({
        session: reader ?? session,
        instantSleep,
        ...(signal ? { signal } : {}),
        ...(seed ? { seed } : {}),
        baseDir: source.baseDir,
        ...(source.fileRoots ? { fileRoots: source.fileRoots } : {}),
        ...(smtp ? { smtp } : {}),
        ...(target.startsWith('sim:') ? { simulatedTenant: target.slice('sim:'.length) } : {}),
        ...(deps.openGraph ? { openGraph: () => deps.openGraph!(target, source.playbook.tenant, { env: options.env, baseDir: source.baseDir, ...(options.onDeviceCode ? { onDeviceCode: options.onDeviceCode } : {}) }) } : {}),
      }),
  };
}
