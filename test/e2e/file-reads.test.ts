/**
 * Files a playbook names (${file:}, smtp-auth/usage report:) are read safely: only inside the
 * playbook's folder or a folder listed under fileRoots (also through symlinks), only regular files
 * (no FIFO, device or folder), size checked before reading, and no content ever echoed. Each hole
 * the issue lists gets a test against the built CLI.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, EngineWorkspace, ROOT, sim } from './engine-support.js';

const MARKER = `exo-secret-marker-${process.pid}`;

function playbook(allow: string, extra = '', usage = ''): string {
  return `apiVersion: exo-playbook/v1
name: file-reads
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: azure-cli }
${extra}vars:
  allow: "${allow}"
steps:
${usage}  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: ["\${vars.allow}"] }
`;
}

let w: EngineWorkspace;

beforeAll(() => {
  assertBuilt();
  w = new EngineWorkspace();
  // The CLI inherits this: /proc/self/environ would hold it.
  process.env.EXO_TEST_SECRET_MARKER = MARKER;
  writeFileSync(join(w.dir, 'allow.txt'), 'device@contoso.com\n');
  symlinkSync('/etc/shadow', join(w.dir, 'shadow-link'));
  symlinkSync('/proc/self/environ', join(w.dir, 'environ-link'));
  execFileSync('mkfifo', [join(w.dir, 'pipe')]);
  mkdirSync(join(w.dir, 'folder'));
});
afterAll(() => w.cleanup());

function validate(text: string) {
  writeFileSync(w.playbook, text);
  return w.run(['validate', 'playbook.yaml']);
}

describe('${file:} reads inside the playbook folder, regular files only', () => {
  it('a file next to the playbook is read (the control case)', () => {
    const r = validate(playbook('${file:allow.txt}'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('/etc/shadow through a symlink in the folder is refused at line:col, its content never printed', () => {
    const r = validate(playbook('${file:shadow-link}'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^playbook\.yaml:7:\d+: cannot read shadow-link: it resolves to \/etc\/shadow, outside the playbook's folder/m);
    expect(r.stderr).toContain('fileRoots');
    expect(r.stderr).not.toMatch(/root:|\$6\$|\$y\$/);
  });

  it('/proc/self/environ (directly or through a symlink) is refused and no environment value leaks', () => {
    for (const reference of ['${file:/proc/self/environ}', '${file:environ-link}']) {
      writeFileSync(w.playbook, playbook(reference));
      const r = w.run(['validate', 'playbook.yaml']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/outside the playbook's folder/);
      expect(r.stderr + r.stdout).not.toContain(MARKER);
    }
  });

  it('a FIFO is refused at once (no hang), as not a regular file', () => {
    const r = validate(playbook('${file:pipe}', 'fileRoots: [.]\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/playbook\.yaml:\d+:\d+: cannot read pipe: it is a FIFO \(named pipe\), not a regular file/);
  });

  it('/dev/zero is refused: outside the folder, and as a device even when /dev is a named root', () => {
    let r = validate(playbook('${file:/dev/zero}'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/outside the playbook's folder/);
    r = validate(playbook('${file:/dev/zero}', 'fileRoots: [/dev]\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read \/dev\/zero: it is a device, not a regular file/);
  });

  it('a folder is refused as a folder', () => {
    const r = validate(playbook('${file:folder}'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read folder: it is a folder, not a regular file/);
  });

  it('a folder named under fileRoots may be read from', () => {
    const shared = join(w.dir, '..', `exo-shared-${process.pid}`);
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'allow.txt'), 'device@contoso.com\n');
    try {
      expect(validate(playbook(`\${file:${shared}/allow.txt}`)).code).toBe(1);
      const r = validate(playbook(`\${file:${shared}/allow.txt}`, `fileRoots: ["${shared}"]\n`));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      execFileSync('rm', ['-rf', shared]);
    }
  });

  it('diff reads allowlists as the runner does: a symlink to /etc/shadow is refused, its content never shown', () => {
    writeFileSync(join(w.dir, 'old.yaml'), playbook('${file:allow.txt}'));
    writeFileSync(join(w.dir, 'new.yaml'), playbook('${file:shadow-link}'));
    const r = w.run(['diff', 'old.yaml', 'new.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read shadow-link: it resolves to \/etc\/shadow, outside the playbook's folder/);
    expect(r.stdout + r.stderr).not.toMatch(/root:|\$6\$|\$y\$/);
  });

  it('plan --out never stores a refused file in plan.json (the run stops before planning)', () => {
    writeFileSync(w.playbook, playbook('${file:shadow-link}'));
    const r = w.run(['plan', 'playbook.yaml', ...sim(w), '--out', 'plan.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('usage report: is checked by validate and capped in size', () => {
  const usage = (report: string) => `  - id: usage\n    uses: smtp-auth/usage\n    with: { report: ${report} }\n`;

  it('a missing CSV is located by validate (a warning; an error with --require-env), and plan gives the same located error (no bare ENOENT)', () => {
    const text = playbook('device@contoso.com', '', usage('missing.csv'));
    let r = validate(text);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^playbook\.yaml:11:\d+: warning: cannot read the usage report missing\.csv: no such file \(needed by plan and apply\)/m);
    r = w.run(['validate', '--require-env', 'playbook.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^playbook\.yaml:11:\d+: cannot read the usage report missing\.csv: no such file/m);
    r = w.run(['plan', 'playbook.yaml', ...sim(w)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^playbook\.yaml:11:\d+: cannot read the usage report missing\.csv: no such file/m);
    expect(r.stderr).not.toContain('ENOENT');
  });

  it('a report: symlink leaving the folder is refused at its line', () => {
    const r = validate(playbook('device@contoso.com', '', usage('shadow-link')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^playbook\.yaml:11:\d+: cannot read the usage report shadow-link: it resolves to \/etc\/shadow, outside the playbook's folder/m);
    expect(r.stderr).not.toMatch(/root:|\$6\$|\$y\$/);
  });

  it('explain never reads the usage CSV, so it does not need one', () => {
    writeFileSync(w.playbook, playbook('device@contoso.com', '', usage('missing.csv')));
    const r = w.run(['explain', 'playbook.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a 50 MB CSV is refused before it is read, also with --format json (exit 1, no crash)', () => {
    const big = join(w.dir, 'big.csv');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 50 * 1024 * 1024);
    closeSync(fd);
    writeFileSync(w.playbook, playbook('device@contoso.com', '', usage('big.csv')));
    const r = w.run(['plan', 'playbook.yaml', ...sim(w), '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read the usage report big\.csv: 52428800 bytes is over the 16777216-byte limit/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('a regular CSV next to the playbook is read', () => {
    copyFileSync(join(ROOT, 'test/actions/fixtures/smtp-auth-clients-report.csv'), join(w.dir, 'report.csv'));
    const r = validate(playbook('device@contoso.com', '', usage('report.csv')));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
