/**
 * docs/OPERATIONS.md "Syslog (Linux) and the Windows Event Log": the Linux block runs as written with
 * bash, with `logger` replaced by a recorder, /etc/exo-playbook and /var/log/exo-playbook moved into a
 * temporary folder, and `exo-playbook` run against a simulated drifted tenant. Its exit code is the
 * run's, the progress lines reach syslog at user.info and the result line (naming who drifted) at
 * user.warning.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, driftedTenant, PLAYBOOK, ROOT } from '../e2e/engine-support.js';

const doc = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-syslog-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the syslog recipe', () => {
  it('runs as written: the exit code of the run, progress at user.info, the drift line at user.warning', () => {
    const at = doc.indexOf('<!-- recipe: syslog -->');
    expect(at).toBeGreaterThan(-1);
    const open = doc.indexOf('```sh\n', at) + 6;
    const block = doc.slice(open, doc.indexOf('\n```', open) + 1);
    for (const sub of ['etc', 'log', 'shims']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, 'etc', 'smtp-auth-drift-check.yaml'), PLAYBOOK);
    writeFileSync(join(dir, 'tenant.json'), JSON.stringify(driftedTenant()));
    const shim = (name: string, body: string) => {
      writeFileSync(join(dir, 'shims', name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(dir, 'shims', name), 0o755);
    };
    // logger: one record per input line, with its options.
    shim('logger', `while IFS= read -r line; do printf '%s\\t%s\\n' "$*" "$line" >> '${join(dir, 'syslog.txt')}'; done`);
    shim('exo-playbook', `exec '${process.execPath}' '${CLI}' "$@" --target 'sim:${join(dir, 'tenant.json')}'`);
    const script = block.replaceAll('/etc/exo-playbook', join(dir, 'etc')).replaceAll('/var/log/exo-playbook', join(dir, 'log'));
    const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'shims')}:${process.env.PATH}`, EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks'), NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(2);
    const records = readFileSync(join(dir, 'syslog.txt'), 'utf8').trim().split('\n');
    expect(records.some((l) => /^-t exo-playbook -p user\.info\t\S+ observe /.test(l))).toBe(true);
    const warning = records.filter((l) => l.startsWith('-t exo-playbook -p user.warning\t'));
    expect(warning).toHaveLength(1);
    const event = JSON.parse(warning[0]!.split('\t')[1]!) as { type: string; message: string };
    expect(event.type).toBe('run-end');
    expect(event.message).toMatch(/^drift found: .*organization-off Organization/);
  });
});
