/** Whatever bytes arrive, the loader answers with located problems, quickly, never a crash. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPlaybookFromText, PlaybookInvalid } from '../../src/playbook/load.js';
import { addressProblem } from '../../src/playbook/addresses.js';

const noFiles = { env: {}, readFile: async () => 'a@contoso.com\n' };

async function outcome(text: string): Promise<'loaded' | PlaybookInvalid> {
  try {
    await loadPlaybookFromText(text, 'fuzz.yaml', noFiles);
    return 'loaded';
  } catch (error) {
    if (error instanceof PlaybookInvalid) return error;
    throw error;
  }
}

const yamlish = fc.stringMatching(/^[a-z:{}[\]\-,'"&*!|>#$ \t\n@.0-9]{0,200}$/);

describe('hostile input', () => {
  it('any text is either a playbook or located problems, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), yamlish), async (text) => {
        const result = await outcome(text);
        if (result !== 'loaded') {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const p of result.problems) expect(p.location.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a deep nesting answers with a problem, not a stack overflow', async () => {
    const result = await outcome('a: ' + '['.repeat(5000) + ']'.repeat(5000));
    expect(result).toBeInstanceOf(PlaybookInvalid);
  });

  it.each([
    ['a@contoso.com"; Remove-Mailbox x', 'space'],
    ['a@contoso.com\r\nb@contoso.com', 'control character'],
    ['$(Get-Secret)@contoso.com', 'with `(`'],
    ['a;b@contoso.com', 'with `;`'],
    ['a@@contoso.com', 'more than one @'],
    ['a@contoso', 'invalid domain'],
  ])('address %j is refused (%s)', (address, why) => {
    expect(addressProblem(address)).toContain(why);
  });

  // Legal atext that a shell or PowerShell would treat specially: accepted, and bound as data.
  it.each(["o'brien@contoso.com", '`whoami`@contoso.com', '${x}@contoso.com'])('address %s is accepted', (address) => {
    expect(addressProblem(address)).toBeUndefined();
  });

  it.each(['a@contoso.com', 'first.last+tag@sub.contoso.co.uk', 'SCANNER-2@Contoso.onmicrosoft.com'])('address %s is accepted', (address) => {
    expect(addressProblem(address)).toBeUndefined();
  });
});
