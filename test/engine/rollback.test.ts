import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readJournal, type JournalRecord } from '../../src/engine/journal.js';
import { rollbackCandidates, rollbackSteps } from '../../src/engine/rollback.js';
import type { PsValue } from '../../src/exchange/session.js';
import { invertMailboxWrite } from '../../src/actions/smtp-auth/allowlist.js';

/** The allowlist action's own inverse builder, as rollback uses it for an allowlist step. */
const invert = invertMailboxWrite;

let seq = 0;
function before(id: string, from: PsValue, to: PsValue): JournalRecord {
  seq += 1;
  return {
    seq,
    at: 't',
    type: 'before',
    changeId: id,
    stepId: 'allow',
    target: id,
    property: 'SmtpClientAuthenticationDisabled',
    before: from,
    after: to,
    cmdlet: 'Set-CASMailbox',
    parameters: { Identity: id, SmtpClientAuthenticationDisabled: to },
    undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: id, SmtpClientAuthenticationDisabled: from } },
  };
}
function after(id: string, outcome: 'applied' | 'failed' | 'unknown'): JournalRecord {
  seq += 1;
  return { seq, at: 't', type: 'after', changeId: id, outcome, attempts: 1, durationMs: 1, warnings: [] };
}

describe('rollbackCandidates', () => {
  const records = [before('a', null, false), after('a', 'applied'), before('b', false, null), after('b', 'failed'), before('c', true, null), after('c', 'applied'), before('d', false, null)];

  it('considers every journaled write, newest first (failed ones too: current values decide); $null exactly', () => {
    const { items } = rollbackCandidates(records, 'runs/r1', invert);
    expect(items.map((i) => [i.change.target, i.known, i.change.call.parameters.SmtpClientAuthenticationDisabled])).toEqual([
      ['d', false, false],
      ['c', true, true],
      ['b', false, false],
      ['a', true, null],
    ]);
    expect(items[3]!.change.after).toBeNull();
    expect(items[0]!.change.reason).toMatch(/no "after" record/);
  });

  it('with current values: skips what is already restored, writes the rest', () => {
    const candidates = rollbackCandidates(records, 'runs/r1', invert);
    // d's interrupted write never happened (still $false); c is $null as the run left it; b's failed
    // write did not happen (still $false); a cannot be read.
    const steps = rollbackSteps(candidates, new Map<string, PsValue | undefined>([['d', false], ['c', null], ['b', false], ['a', undefined]]));
    expect(steps[0]!.changes.map((c) => c.target)).toEqual(['c', 'a']);
    expect(steps[0]!.inDesiredState[0]).toMatch(/^d .* already \$false/);
    expect(steps[0]!.inDesiredState[1]).toMatch(/^b .* already \$false \(the failed write did not happen/);
  });

  it('restores a failed or unknown write that did reach the tenant (its value differs from the before-value)', () => {
    const journal = [before('u', false, true), after('u', 'unknown'), before('f', null, false), after('f', 'failed')];
    const steps = rollbackSteps(rollbackCandidates(journal, 'r', invert), new Map<string, PsValue | undefined>([['u', true], ['f', false]]));
    expect(steps[0]!.changes.map((c) => [c.target, c.before, c.after])).toEqual([
      ['f', false, null],
      ['u', true, false],
    ]);
    expect(steps[0]!.changes[1]!.reason).toMatch(/journaled this write as unknown/);
  });

  it('never restores a write the service refused with an error record (journaled failed with serviceError)', () => {
    const refused: JournalRecord = {
      ...after('s', 'failed'),
      serviceError: { code: null, exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', text: 'The mailbox is being moved.', httpStatus: null },
    } as JournalRecord;
    const candidates = rollbackCandidates([before('s', null, false), refused, before('f', null, true), after('f', 'failed')], 'r', invert);
    expect(candidates.items.map((i) => i.change.id)).toEqual(['f']);
    expect(candidates.notes).toEqual([]);
  });

  it('an unknown write whose value cannot be read is restored anyway, with a warning that says so', () => {
    const steps = rollbackSteps(rollbackCandidates([before('u', false, true), after('u', 'unknown')], 'r', invert), new Map([['u', undefined]]));
    expect(steps[0]!.changes.map((c) => c.target)).toEqual(['u']);
    expect(steps[0]!.risks[0]!.message).toMatch(/cannot be read, and the journal says the write was unknown/);
  });

  it('flags a value someone changed since the run, and still restores it', () => {
    const steps = rollbackSteps(rollbackCandidates([before('a', null, false), after('a', 'applied')], 'r', invert), new Map([['a', true]]));
    expect(steps[0]!.changes[0]).toMatchObject({ before: true, after: null });
    expect(steps[0]!.risks[0]!.message).toMatch(/someone changed it/);
  });

  it('derives the inverse from the values only: a forged undo (other cmdlet, mailbox, value) is never used', () => {
    const forged = {
      ...before('stray1@contoso.com', false, null),
      targetId: 'guid-of-stray1',
      undo: { cmdlet: 'Set-TransportConfig', parameters: { Identity: 'bob@contoso.com', SmtpClientAuthenticationDisabled: true } },
    } as JournalRecord;
    const { items, underivable } = rollbackCandidates([forged, after('stray1@contoso.com', 'applied')], 'r', invert);
    expect(underivable).toEqual([]);
    expect(items.map((i) => i.change.call)).toEqual([
      { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'guid-of-stray1', SmtpClientAuthenticationDisabled: false } },
    ]);
  });

  it('refuses records no builder derives (unknown step, other property, impossible value) and says so', () => {
    const unknownStep = { ...before('a@contoso.com', false, null), stepId: 'nope' } as JournalRecord;
    const otherProperty = { ...before('b@contoso.com', false, null), property: 'ForwardingSmtpAddress' } as JournalRecord;
    const impossible = { ...before('c@contoso.com', 'evil', null) } as JournalRecord;
    const records = [unknownStep, after('a@contoso.com', 'applied'), otherProperty, after('b@contoso.com', 'applied'), impossible, after('c@contoso.com', 'applied')];
    const { items, underivable, notes } = rollbackCandidates(records, 'r', (w) => (w.stepId === 'allow' ? invert(w) : null));
    expect(items).toEqual([]);
    expect(underivable).toHaveLength(3);
    expect(notes.join('\n')).toMatch(/restore it by hand/);
  });

  it("an action whose writes cannot be undone (a search, an escape hatch) gets a note, whatever undo the file holds", () => {
    const search = { ...before('x', null, 'SmtpCSReport'), stepId: 'usage', undo: { cmdlet: 'Set-CASMailbox', parameters: { Identity: 'x' } } } as JournalRecord;
    const { items, notes, underivable } = rollbackCandidates([search, after('x', 'applied')], 'r', () => 'no-undo');
    expect(items).toEqual([]);
    expect(underivable).toEqual([]);
    expect(notes).toEqual([expect.stringMatching(/recorded no undo .* by hand/)]);
  });
});

describe('readJournal', () => {
  it('ignores a torn last line (killed inside write) and rejects damage elsewhere with file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exo-journal-'));
    try {
      const file = join(dir, 'journal.jsonl');
      writeFileSync(file, `${JSON.stringify(before('a', null, false))}\n`);
      appendFileSync(file, '{"seq":9,"type":"af');
      expect(readJournal(file)).toHaveLength(1);
      appendFileSync(file, `\n${JSON.stringify(after('a', 'applied'))}\n`);
      let error: unknown;
      try {
        readJournal(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).location).toEqual({ file, line: 2, col: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
