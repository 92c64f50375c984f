/**
 * Parameter values are data, never script: 1,000+ generated hostile strings (every kind of quote,
 * subexpressions, variables, backticks, separators, newlines, NUL, astral and RTL Unicode, 10k
 * lengths) go through real pwsh as -Identity values, arrive byte-exact in the stub's call record, and
 * none of the embedded payloads runs (a canary file is never created).
 *
 * NUL: JSON carries \u0000 and a .NET string holds it, so it is passed through like any character.
 * Lone surrogates (not Unicode text) are refused by the host's JSON reader: the call fails with a
 * CmdletFailure and nothing runs; the last test here pins that.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CmdletFailure } from '../../../src/exchange/session.js';
import { fixtureTenant, noPwsh, tempDir, writeState } from './pwsh-for-tests.js';
import { SharedStubHost } from './shared-host.js';

const RUNS = 1000;

function hostile(canary: string): fc.Arbitrary<string> {
  const payloads = [
    `$([IO.File]::WriteAllText('${canary}', 'subexpression'))`,
    `\${[IO.File]::WriteAllText('${canary}', 'braced')}`,
    `"; [IO.File]::WriteAllText('${canary}', 'double'); "`,
    `'; [IO.File]::WriteAllText('${canary}', 'single'); '`,
    `\u201d; [IO.File]::WriteAllText('${canary}', 'smart'); \u201c`,
    `\u2019; [IO.File]::WriteAllText('${canary}', 'smart single'); \u2018`,
    `\`n[IO.File]::WriteAllText('${canary}', 'backtick')`,
    `x\n[IO.File]::WriteAllText('${canary}', 'newline')`,
    `x | ForEach-Object { [IO.File]::WriteAllText('${canary}', 'pipe') }`,
    `x & [IO.File]::WriteAllText('${canary}', 'amp')`,
    `@{a=$([IO.File]::WriteAllText('${canary}', 'hash'))}`,
    `$env:PATH $PSVersionTable $null $true`,
    '-Identity x -ErrorAction Stop',
    '--% ; `" $() \0 \r\n',
  ];
  const pieces = fc.oneof(
    fc.constantFrom(...payloads),
    fc.constantFrom('"', "'", '`', '\u201c', '\u201d', '\u2018', '\u2019', '\u201e', '$', '$(', '${', '@(', ';', '|', '&', '&&', '||', '\n', '\r', '\r\n', '\t', '\0', '#', '<#', '#>', '\u202e', '\u200f', '\u05e9\u05dc\u05d5\u05dd', '\ud83d\udca5', '\u{1f600}', '\ufeff', '\\', '{', '}', '(', ')'),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
  return fc.oneof(
    { weight: 20, arbitrary: fc.array(pieces, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')) },
    // Cut by code point, never inside a surrogate pair (see the note on lone surrogates above).
    {
      weight: 1,
      arbitrary: fc
        .tuple(pieces, fc.integer({ min: 9_000, max: 10_000 }))
        .map(([p, n]) => Array.from(p.repeat(Math.ceil(n / Math.max(1, p.length)))).slice(0, n).join('')),
    },
  );
}

describe.skipIf(noPwsh)('hostile parameter values through real pwsh', () => {
  // One pwsh host for both tests, each over its own state and call record (shared-host.ts).
  const host = new SharedStubHost();
  afterAll(() => host.close());

  it(`arrive byte-exact and never execute (${RUNS} generated strings, one session)`, async () => {
    const dir = tempDir('inject');
    const canary = join(dir, 'canary');
    const callsFile = join(dir, 'calls.jsonl');
    const session = await host.lease(writeState(dir, fixtureTenant()), { callsFile });
    const sent: string[] = [];
    try {
      await fc.assert(
        fc.asyncProperty(hostile(canary), async (value) => {
          sent.push(value);
          const result = await session.invoke('Get-User', { Identity: value, ErrorAction: 'SilentlyContinue' });
          // No mailbox has such a name: nothing found, nothing run.
          return result.objects.length === 0 || value.trim() === '';
        }),
        { numRuns: RUNS },
      );
    } finally {
      await session.close();
    }
    const recorded = readFileSync(callsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { parameters: { Identity: string } }).parameters.Identity);
    expect(recorded).toHaveLength(sent.length);
    expect(sent.length).toBeGreaterThanOrEqual(RUNS);
    for (let i = 0; i < sent.length; i++) {
      if (recorded[i] !== sent[i]) expect({ index: i, recorded: recorded[i] }).toEqual({ index: i, recorded: sent[i] });
    }
    expect(existsSync(canary)).toBe(false);
  }, 300_000);

  it('refuses a string with a lone surrogate as a failed call, and the session goes on', async () => {
    const dir = tempDir('inject');
    const session = await host.lease(writeState(dir, fixtureTenant()));
    try {
      await expect(session.invoke('Get-User', { Identity: 'x\ud800' })).rejects.toBeInstanceOf(CmdletFailure);
      expect((await session.invoke('Get-User', { ResultSize: 1 })).objects).toHaveLength(1);
    } finally {
      await session.close();
    }
  });
});
