/**
 * rollback takes the scheduled-job options apply takes: --notify-webhook posts one message when a
 * rollback fails or is refused (a server on 127.0.0.1 that closes itself stands in for the chat),
 * and --keep-runs trims earlier rollback run directories, never the apply runs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, EngineWorkspace, sim } from './engine-support.js';

const received: { text: string; summary: string }[] = [];
let server: ReturnType<typeof createServer>;
let url: string;
let workspaces: EngineWorkspace[] = [];

beforeAll(async () => {
  assertBuilt();
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push(JSON.parse(raw));
      res.writeHead(200).end('1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/SECRET-PART`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

afterEach(() => {
  workspaces.forEach((w) => w.cleanup());
  workspaces = [];
  received.length = 0;
});

function applied(): { w: EngineWorkspace; runDir: string } {
  const w = new EngineWorkspace();
  workspaces.push(w);
  const apply = w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']);
  expect(apply.code, apply.stderr).toBe(0);
  return { w, runDir: join(w.runsDir, readdirSync(w.runsDir).find((d) => d.endsWith('smtp-auth-disable'))!) };
}

/** The CLI without a TTY, the webhook URL only in the environment (never on argv). */
function rollback(w: EngineWorkspace, args: string[]) {
  return execa('node', [CLI, 'rollback', ...args], { cwd: w.dir, env: { ...w.env(), EXO_WEBHOOK: url }, reject: false, stdin: 'ignore' });
}

describe('rollback --notify-webhook', () => {
  it('a refused rollback (no --yes, no TTY) exits 4 and posts one message naming the refusal', async () => {
    const { w, runDir } = applied();
    const r = await rollback(w, [runDir, '--runs-dir', 'runs', '--notify-webhook', 'env:EXO_WEBHOOK']);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(received).toHaveLength(1);
    expect(received[0]!.summary).toBe('rollback smtp-auth-disable was refused by a safety guard');
    expect(received[0]!.text).toContain('(exit 4)');
    expect(r.stdout + r.stderr).not.toContain('SECRET-PART');
  });

  it('a rollback that fails to start (not a run directory) exits 1 and posts one message', async () => {
    const { w } = applied();
    const r = await rollback(w, [join(w.dir, 'nowhere'), '--runs-dir', 'runs', '--yes', '--notify-webhook', 'env:EXO_WEBHOOK']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(received).toHaveLength(1);
    expect(received[0]!.text).toMatch(/rollback .* failed \(exit 1\)/);
    expect(received[0]!.text).toContain('is not a run directory');
  });

  it('a rollback that restores everything posts nothing', async () => {
    const { w, runDir } = applied();
    const r = await rollback(w, [runDir, '--runs-dir', 'runs', '--yes', '--notify-webhook', 'env:EXO_WEBHOOK']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(received).toEqual([]);
  });
});

describe('rollback --keep-runs', () => {
  it('keeps the newest N rollback run directories and leaves every apply run alone', async () => {
    const { w, runDir } = applied();
    // Two earlier rollbacks and an earlier apply of the same playbook, from last year.
    for (const old of ['20251101T080000Z-smtp-auth-disable-rollback', '20251102T080000Z-smtp-auth-disable-rollback', '20251101T070000Z-smtp-auth-disable']) {
      mkdirSync(join(w.runsDir, old));
    }
    const r = await rollback(w, [runDir, '--runs-dir', 'runs', '--yes', '--keep-runs', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const left = readdirSync(w.runsDir).sort();
    const rollbacks = left.filter((d) => d.endsWith('-rollback'));
    expect(rollbacks).toHaveLength(2);
    expect(rollbacks).toContain('20251102T080000Z-smtp-auth-disable-rollback');
    expect(rollbacks).not.toContain('20251101T080000Z-smtp-auth-disable-rollback');
    expect(left).toContain('20251101T070000Z-smtp-auth-disable');
    expect(left).toContain(runDir.split('/').pop());
  });
});
