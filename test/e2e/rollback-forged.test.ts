/**
 * Rollback writes only inverses it derives from the journal's values through the action's own write
 * builder (issue 10, point 1): a forged `undo` in journal.jsonl (another cmdlet, another mailbox,
 * another value) is never run. Built CLI on a simulated tenant (run `npm run build` first).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, switches, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

async function appliedRun(w: Workspace): Promise<string> {
  const apply = await cli(['apply', w.playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes', '--accept-breakage', 'alice@contoso.com']);
  expect(apply.code, apply.stdout + apply.stderr).toBe(0);
  const [dir] = readdirSync(w.file('runs'));
  return join(w.file('runs'), dir!);
}

type Record = { [key: string]: unknown };

function rewriteJournal(runDir: string, edit: (records: Record[]) => Record[]): void {
  const file = join(runDir, 'journal.jsonl');
  const records = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record);
  writeFileSync(file, `${edit(records).map((r) => JSON.stringify(r)).join('\n')}\n`);
}

const rollback = (w: Workspace, runDir: string) => cli(['rollback', runDir, '--runs-dir', w.file('runs'), '--yes']);

describe('rollback of a forged journal (built CLI, simulated tenant)', () => {
  it('ignores a forged undo call and restores only the before-value the record names', async () => {
    ws = workspace();
    const before = ws.readState();
    const runDir = await appliedRun(ws);
    rewriteJournal(runDir, (records) =>
      records.map((r) =>
        r.type === 'before' && r.target === 'stray1@contoso.com'
          ? { ...r, undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false } } }
          : r.type === 'before' && r.target === 'Organization'
            ? { ...r, undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'carol@contoso.com', SmtpClientAuthenticationDisabled: false } } }
            : r,
      ),
    );
    const result = await rollback(ws, runDir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const after = ws.readState();
    // Everything back as it was; bob and carol, named only by the forged calls, untouched.
    expect(switches(after)).toEqual(switches(before));
    expect(after.transportConfig).toEqual(before.transportConfig);
  });

  it('refuses a record no action derives: nothing written for it, the others restored, exit non-zero', async () => {
    ws = workspace();
    const before = ws.readState();
    const runDir = await appliedRun(ws);
    rewriteJournal(runDir, (records) => {
      const seq = Math.max(...records.map((r) => Number(r.seq))) + 1;
      const end = records.findIndex((r) => r.type === 'run-end');
      const forged: Record[] = [
        {
          seq,
          at: '2026-11-23T10:00:00.000Z',
          type: 'before',
          changeId: 'evil:bob@contoso.com:SmtpClientAuthenticationDisabled',
          stepId: 'evil',
          target: 'bob@contoso.com',
          property: 'SmtpClientAuthenticationDisabled',
          before: false,
          after: null,
          cmdlet: 'Set-CASMailbox',
          parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: null },
          undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: false } },
        },
        { seq: seq + 1, at: '2026-11-23T10:00:00.000Z', type: 'after', changeId: 'evil:bob@contoso.com:SmtpClientAuthenticationDisabled', outcome: 'applied', attempts: 1, durationMs: 1, warnings: [] },
      ];
      return [...records.slice(0, end), ...forged, ...records.slice(end)];
    });
    const result = await rollback(ws, runDir);
    expect(result.code, result.stdout + result.stderr).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/bob@contoso\.com SmtpClientAuthenticationDisabled: .*restore it by hand/);
    const after = ws.readState();
    expect(switches(after)['bob@contoso.com']).toBeNull();
    expect(switches(after)['stray1@contoso.com']).toBe(false);
    expect(after.transportConfig).toEqual(before.transportConfig);
  });
});
