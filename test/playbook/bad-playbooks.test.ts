/**
 * The bad-playbook corpus: each file's first line says where its (main) problem must be reported
 * and what the message must contain: `# expect: [other-file:]line:col fragment`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook, PlaybookInvalid } from '../../src/playbook/load.js';

const corpus = path.resolve('test/fixtures/bad-playbooks');
const files = readdirSync(corpus).filter((f) => f.endsWith('.yaml')).sort();
const env = { EXO_APP_ID: '00000000-0000-0000-0000-000000000001', EXO_CERT_PEM: '/etc/exo/cert.pem' };

function expectation(file: string) {
  // Only the first line is decoded: not-utf8.yaml is broken further down on purpose.
  const bytes = readFileSync(path.join(corpus, file));
  const first = bytes.subarray(0, bytes.indexOf(10)).toString('utf8');
  const match = /^# expect: (?:(\S+):)?(\d+):(\d+) (.+)$/.exec(first);
  if (!match) throw new Error(`${file} has no "# expect: line:col fragment" first line`);
  return { file: path.join(corpus, match[1] ?? file), line: Number(match[2]), col: Number(match[3]), fragment: match[4]! };
}

async function problemsOf(file: string) {
  try {
    await loadPlaybook(path.join(corpus, file), { env });
  } catch (error) {
    if (error instanceof PlaybookInvalid) return error.problems;
    throw error;
  }
  throw new Error(`${file} loaded without problems`);
}

describe('bad playbooks', () => {
  it('has a corpus of at least 25 files', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  it.each(files)('%s is refused at the expected place with the expected message', async (file) => {
    const want = expectation(file);
    const problems = await problemsOf(file);
    const rendered = problems.map((p) => `${p.location.file}:${p.location.line}:${p.location.col}: ${p.message}`);
    expect(rendered).toContainEqual(expect.stringContaining(`${want.file}:${want.line}:${want.col}: `));
    const atPlace = problems.filter((p) => p.location.file === want.file && p.location.line === want.line && p.location.col === want.col);
    expect(atPlace.map((p) => p.message).join('\n')).toContain(want.fragment);
  });

  it('refuses an alias bomb quickly instead of expanding it', async () => {
    // Expanded, the bomb is billions of nodes (minutes and gigabytes); refused, milliseconds. The
    // ceiling is for a loaded machine: it tells the two apart without timing the refusal.
    const started = performance.now();
    const problems = await problemsOf('alias-bomb.yaml');
    expect(performance.now() - started, 'refused without expanding the aliases').toBeLessThan(30_000);
    expect(problems.filter((p) => p.message.includes('anchors and aliases'))).toHaveLength(1);
  });

  it('names both places when an allowlist file repeats an inline mailbox', async () => {
    const problems = await problemsOf('duplicate-mailbox-across-files.yaml');
    const duplicate = problems.find((p) => p.message.includes('listed twice'))!;
    expect(duplicate.location.file).toBe(path.join(corpus, 'files/dup-allowlist.txt'));
    expect(duplicate.message).toContain(`${path.join(corpus, 'duplicate-mailbox-across-files.yaml')}:12:11`);
  });

  it('reports every problem of a file, not just the first', async () => {
    const problems = await problemsOf('unknown-with-key.yaml');
    expect(problems.map((p) => p.path)).toEqual(['steps.0.with.mailboxes', 'steps.0.with.mailbox']);
  });

  it('renders each problem as file:line:col: message (path) with its hint', async () => {
    const error = await loadPlaybook(path.join(corpus, 'unknown-action.yaml'), { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlaybookInvalid);
    expect((error as Error).message).toBe(
      `${path.join(corpus, 'unknown-action.yaml')}:9:11: unknown action \`smtp-auth/usge\`; did you mean \`smtp-auth/usage\`? (steps.0.uses)\n` +
        '  hint: one of: transport-config, smtp-auth/usage, smtp-auth/allowlist, smtp-auth/verify, smtp-auth/probe, smtp-auth/oauth-senders, powershell',
    );
  });
});
