/**
 * The README walkthrough runs as written: the block between the walkthrough markers is run line by
 * line in bash (from a directory shaped like a checkout), and every `# exit N` annotation must hold.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLAYBOOK_ENV, ROOT } from './smtp-auth-support.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function walkthroughScript(readme: string): { script: string; checks: number } {
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme)?.[1];
  if (!block) throw new Error('README has no walkthrough block');
  let checks = 0;
  const lines = block.trim().split('\n').map((line) => {
    const expected = /#\s*exit (\d+)\s*$/.exec(line);
    const command = line.replace(/\s+#.*$/, '');
    if (!expected) return `${command} || { echo "FAILED: ${command.replaceAll('"', '\\"')}" >&2; exit 98; }`;
    checks++;
    return `${command}; code=$?; if [ "$code" != "${expected[1]}" ]; then echo "EXIT $code (expected ${expected[1]}): ${command.replaceAll('"', '\\"')}" >&2; exit 99; fi`;
  });
  return { script: ['shopt -s expand_aliases', ...lines, 'echo WALKTHROUGH-OK'].join('\n'), checks };
}

describe('README walkthrough', () => {
  it('runs as written, every exit code as annotated', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exo-readme-'));
    for (const name of ['bin', 'playbooks', 'dist', 'node_modules', 'package.json']) symlinkSync(join(ROOT, name), join(dir, name));
    const { script, checks } = walkthroughScript(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(checks).toBeGreaterThanOrEqual(8);
    writeFileSync(join(dir, 'walkthrough.sh'), script);
    const result = await new Promise<{ code: number; out: string; err: string }>((done) =>
      execFile('bash', ['walkthrough.sh'], { cwd: dir, env: { ...process.env, ...PLAYBOOK_ENV }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr }),
      ),
    );
    expect(result.code, result.err.slice(-2000)).toBe(0);
    expect(result.out).toContain('WALKTHROUGH-OK');
    // The CSV the walkthrough exports holds the dossier of the device everyone knows.
    const csv = readFileSync(join(dir, 'walkthrough', 'senders.csv'), 'utf8');
    expect(csv).toMatch(/^\uFEFFSender,Mailbox,/);
    expect(csv).toContain('scanner@contoso.com,scanner@contoso.com,');
    // Graph-only senders have no count: "unknown", never 0.
    expect(csv).toMatch(/^olga\.lee@contoso\.com,olga\.lee@contoso\.com,[^,]*,Basic,unknown,/m);
    // The usage playbook's verify saved every source's reading: the disable playbook's guard read them
    // (history:) and the apply accepted by name the Basic senders only Graph saw.
    const history = JSON.parse(readFileSync(join(dir, 'walkthrough', 'smtp-auth-usage.history.json'), 'utf8')) as { readings?: { source: string }[] };
    expect(history.readings?.map((r) => r.source)).toEqual(expect.arrayContaining(['admin-center-report', 'request-report', 'entra-sign-ins', 'email-app-usage']));
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/--accept-breakage all +# exit/);
  });
});
