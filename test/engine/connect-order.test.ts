/**
 * The order in which `apply --concurrency N` opens its sessions (src/engine/connect.ts): the extra
 * hosts start once the run's own host has started, and sign in only once the run's own session has
 * signed in. A refused sign-in is therefore tried once, and the extra hosts are gone before the error
 * reaches the user. The e2e counterpart (real pwsh + stub) is test/e2e/engine-concurrency.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { openRunSession } from '../../src/engine/connect.js';
import type { EngineDeps, OpenTargetOptions } from '../../src/engine/deps.js';
import type { PlaybookSource } from '../../src/engine/playbook-source.js';
import type { ExchangeSession } from '../../src/exchange/session.js';
import type { Playbook } from '../../src/playbook/schema.js';

interface Opening {
  options: OpenTargetOptions;
  signedIn: boolean;
  closed: boolean;
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A target whose first opening (the run's own) starts, then waits for `ownSignIn` to sign in. */
function fakeTarget(ownSignIn: Promise<void>) {
  const openings: Opening[] = [];
  const events: string[] = [];
  const openTarget: EngineDeps['openTarget'] = async (_target, _tenant, options) => {
    const opening: Opening = { options, signedIn: false, closed: false };
    const n = openings.push(opening);
    events.push(`start ${n}`);
    await Promise.resolve();
    options.onStarted?.();
    if (n === 1) await ownSignIn;
    else if (options.signInAfter) await options.signInAfter;
    opening.signedIn = true;
    events.push(`signed in ${n}`);
    return {
      kind: 'simulator',
      invoke: async () => ({ objects: [], warnings: [], errors: [] }),
      stream: async function* () {},
      close: async () => {
        opening.closed = true;
      },
    } as unknown as ExchangeSession;
  };
  return { openings, events, deps: { openTarget } as unknown as EngineDeps };
}

const source = {
  file: 'p.yaml',
  baseDir: '.',
  hash: 'x',
  playbook: { tenant: { organization: 'contoso.onmicrosoft.com', auth: { method: 'access-token', token: '${env:T}' } }, steps: [] } as unknown as Playbook,
} as PlaybookSource;
const quiet = { emit: () => undefined };

describe('opening the sessions of apply --concurrency 3', () => {
  it("starts the extra hosts once the run's own host has started, and signs them in only after the run's own sign-in", async () => {
    const own = deferred();
    const { openings, events, deps } = fakeTarget(own.promise);
    const opened = openRunSession(deps, source, 'exchange', { env: {}, readOnly: false, emitter: quiet, extraSessions: 2 });
    // Own host started, not yet signed in: the two extra hosts are starting, waiting to sign in.
    await new Promise((r) => setTimeout(r, 10));
    expect(openings).toHaveLength(3);
    expect(openings[1]!.options.signInAfter).toBeDefined();
    expect(openings.map((o) => o.signedIn)).toEqual([false, false, false]);
    own.resolve();
    const run = await opened;
    const extra = await run.openExtra!();
    expect(extra).toBeDefined();
    expect(events.indexOf('signed in 1')).toBeLessThan(events.indexOf('signed in 2'));
    expect(events.indexOf('signed in 1')).toBeLessThan(events.indexOf('signed in 3'));
    await run.abandonExtras!();
  });

  it("a refused sign-in: the extra hosts never sign in, and are gone before the error is thrown", async () => {
    const own = deferred();
    const { openings, deps } = fakeTarget(own.promise);
    const opened = openRunSession(deps, source, 'exchange', { env: {}, readOnly: false, emitter: quiet, extraSessions: 2 });
    await new Promise((r) => setTimeout(r, 10));
    expect(openings).toHaveLength(3);
    const aborted = openings.slice(1).map((o) => o.options.signal!);
    own.reject(new Error('sign-in refused'));
    await expect(opened).rejects.toThrow('sign-in refused');
    expect(openings.map((o) => o.signedIn)).toEqual([false, false, false]);
    expect(aborted.map((s) => s.aborted)).toEqual([true, true]);
  });

  it('an opener that never reports its start: the extra hosts start once the run has signed in', async () => {
    const own = deferred();
    const started: string[] = [];
    const deps = {
      openTarget: async (_t: string, _tenant: unknown, options: OpenTargetOptions) => {
        started.push(options.signInAfter ? 'extra' : 'own');
        if (!options.signInAfter) await own.promise;
        return { kind: 'simulator', close: async () => undefined } as unknown as ExchangeSession;
      },
    } as unknown as EngineDeps;
    const opened = openRunSession(deps, source, 'exchange', { env: {}, readOnly: false, emitter: quiet, extraSessions: 2 });
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['own']);
    own.resolve();
    const run = await opened;
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual(['own', 'extra', 'extra']);
    await run.abandonExtras!();
  });
});
