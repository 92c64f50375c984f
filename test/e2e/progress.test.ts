/**
 * Progress from the first second, without a terminal: the built CLI with pipes for stdio, against a
 * simulated tenant whose sign-in is slow (faults.latencyByCmdlet) and whose bulk mailbox read pages
 * slowly (faults.streamDelayMs). stderr carries timestamped lines for sign-in, the running count of the
 * bulk read, planning and the end, with heartbeats in between; stdout is only the report.
 * Lines are read as they arrive, so the test sees them *during* the run, not only after it.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './engine-support.js';
import { reportWorkspace, type ReportWorkspace } from '../support/report-workspace.js';

let w: ReportWorkspace;
beforeAll(async () => {
  assertBuilt();
  // 6,000 mailboxes paged 500 at a time with 250 ms between pages: a bulk read of about 3 s.
  w = await reportWorkspace(6000, 'progress', {});
  const { readFileSync, writeFileSync } = await import('node:fs');
  const state = JSON.parse(readFileSync(`${w.dir}/tenant.json`, 'utf8')) as { faults: Record<string, unknown> };
  state.faults = { latencyByCmdlet: { 'Connect-ExchangeOnline': 3500 }, streamDelayMs: 250 };
  writeFileSync(`${w.dir}/tenant.json`, JSON.stringify(state));
});
afterAll(() => w?.cleanup());

interface Line {
  /** When the test received it (ms since spawn). */
  receivedMs: number;
  text: string;
}

function runStreaming(args: string[]): Promise<{ code: number | null; stdout: string; lines: Line[] }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: w.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let partial = '';
    const lines: Line[] = [];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      partial += d.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ receivedMs: Date.now() - started, text });
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, lines }));
  });
}

describe('progress without a terminal', () => {
  it('plan: timestamped stderr lines for sign-in, heartbeats while it is slow, a running count during the bulk read; stdout is the report only', async () => {
    const r = await runStreaming(['plan', 'smtp-auth-disable.yaml', ...w.target, '--format', 'json']);
    expect(r.code, r.lines.map((l) => l.text).join('\n')).toBe(2);
    // stdout: the JSON document and nothing else.
    expect(JSON.parse(r.stdout)).toMatchObject({ formatVersion: 1, kind: 'plan' });
    const texts = r.lines.map((l) => l.text);
    // Every line is an ISO-8601 timestamp, an event type and a message.
    for (const t of texts) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+\s+\S/);
    const index = (re: RegExp) => texts.findIndex((t) => re.test(t));
    const connecting = index(/ connect +connecting to contoso\.onmicrosoft\.com/);
    const signedIn = index(/ connect +signed in to contoso\.onmicrosoft\.com in \d/);
    const reading = index(/ observe +Get-EXOCASMailbox: reading/);
    const counts = texts.filter((t) => / observe +Get-EXOCASMailbox: \d+ read so far/.test(t));
    const readDone = index(/ observe +Get-EXOCASMailbox: 6000 read in/);
    const planned = index(/ plan +\d+ change\(s\)/);
    expect(connecting).toBeGreaterThanOrEqual(0);
    // The sign-in takes 3.5 s: heartbeats fill the silence between "connecting" and "signed in".
    const signInHeartbeats = texts.slice(connecting, signedIn).filter((t) => / heartbeat +still signing in/.test(t));
    expect(signInHeartbeats.length).toBeGreaterThanOrEqual(1);
    expect(reading).toBeGreaterThan(signedIn);
    expect(counts.length).toBeGreaterThanOrEqual(1);
    expect(readDone).toBeGreaterThan(reading);
    expect(planned).toBeGreaterThan(readDone);
    // The running counts grow.
    const numbers = counts.map((t) => Number(/(\d+) read so far/.exec(t)![1]));
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
    // The first line arrives while sign-in is still going on (it takes 3.5 s of the run).
    expect(r.lines[connecting]!.receivedMs).toBeLessThan(r.lines[signedIn]!.receivedMs);
  });
});
