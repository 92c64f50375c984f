/**
 * The line progress (no terminal) on a fake clock: a heartbeat fills every silence of a working phase,
 * none is printed while a person is asked or after the run ended; and the running count of a bulk read.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEmitter } from '../../src/engine/events.js';
import { countingReads, HEARTBEAT_QUIET_MS, lineProgress } from '../../src/engine/progress.js';
import type { ExchangeSession, PsObject } from '../../src/exchange/session.js';
import type { RunEvent } from '../../src/engine/types.js';

afterEach(() => vi.useRealTimers());

function event(type: RunEvent['type'], message: string): RunEvent {
  return { type, message, at: new Date().toISOString() };
}

describe('lineProgress', () => {
  it('prints a heartbeat naming the phase when a working phase is silent, and never under a prompt or after the end', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const progress = lineProgress((l) => lines.push(l));
    progress.emit(event('connect', 'connecting to contoso.onmicrosoft.com'));
    vi.advanceTimersByTime(HEARTBEAT_QUIET_MS - 300);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(600);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\S+Z heartbeat +still signing in \(\d+ s\)\n$/);
    // Silence keeps being filled: never two heartbeats more than HEARTBEAT_QUIET_MS + a tick apart.
    vi.advanceTimersByTime(10_000);
    expect(lines.length).toBeGreaterThanOrEqual(2 + Math.floor(10_000 / (HEARTBEAT_QUIET_MS + 250)));
    expect(lines.at(-1)).toMatch(/still signing in \(1[012] s\)/);
    // A warning does not end the phase; a failed change neither.
    progress.emit(event('change-start', 'Set-CASMailbox a@contoso.com'));
    progress.emit(event('error', 'failed: a@contoso.com'));
    lines.length = 0;
    vi.advanceTimersByTime(2000);
    expect(lines.some((l) => l.includes('still writing'))).toBe(true);
    // Waiting for a person: quiet.
    progress.emit(event('confirm', 'asking for confirmation'));
    lines.length = 0;
    vi.advanceTimersByTime(30_000);
    expect(lines).toEqual([]);
    progress.emit(event('verify', 'verifying'));
    progress.emit(event('run-end', 'done'));
    lines.length = 0;
    vi.advanceTimersByTime(30_000);
    expect(lines).toEqual([]);
    progress.close();
  });
});

describe('countingReads', () => {
  it('reports the start, a running count and the total of a streamed read, and passes every object through', async () => {
    const objects: PsObject[] = Array.from({ length: 12_000 }, (_, i) => ({ Identity: `m${i}` }));
    const session: ExchangeSession = {
      kind: 'simulator',
      invoke: async () => ({ objects: [], warnings: [], errors: [] }),
      async *stream() {
        yield* objects;
      },
      close: async () => {},
    };
    const events: RunEvent[] = [];
    const counted = countingReads(session, createEmitter([{ emit: (e) => events.push(e) }]));
    let n = 0;
    for await (const _ of counted.stream('Get-EXOCASMailbox', {})) n += 1;
    expect(n).toBe(12_000);
    const messages = events.map((e) => e.message);
    expect(messages[0]).toBe('Get-EXOCASMailbox: reading');
    expect(messages).toContain('Get-EXOCASMailbox: 5000 read so far');
    expect(messages).toContain('Get-EXOCASMailbox: 10000 read so far');
    expect(messages.at(-1)).toMatch(/^Get-EXOCASMailbox: 12000 read in \d+\.\d s$/);
    expect(events.every((e) => e.type === 'observe')).toBe(true);
  });
});
