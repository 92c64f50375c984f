/**
 * `exo-playbook fleet … --notify-webhook`: one message for the whole fleet, posted to a chat webhook
 * (here a server on 127.0.0.1 that this file closes) on drift or failure only, naming each tenant
 * that did not end ok; nothing for a plan with changes or a compliant fleet; the URL stays off argv
 * (env:NAME) and out of every output. A sharded run is told once, by `fleet merge`.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from './engine-support.js';
import { FleetWorkspace } from '../fleet/fleet-support.js';

const received: { text: string; summary: string }[] = [];
let server: ReturnType<typeof createServer>;
let url: string;

beforeAll(async () => {
  assertBuilt();
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(raw) as { text: string; summary: string });
      res.writeHead(200).end('1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/SECRET-HOOK-PART`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

let w: FleetWorkspace | undefined;
afterEach(() => {
  w?.cleanup();
  w = undefined;
});

const fleet = (command: string, ...rest: string[]) => ['fleet', command, 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', '--notify-webhook', 'env:EXO_WEBHOOK', ...rest];

describe('fleet --notify-webhook', () => {
  it('posts one message naming the drifting tenants; nothing for a plan with changes or a compliant fleet', async () => {
    w = new FleetWorkspace({ tenants: 3 });
    const env = { EXO_WEBHOOK: url };
    received.length = 0;

    // A plan with changes is not news (as for a single run).
    const plan = await w.runAsync(fleet('plan'), env);
    expect(plan.code, plan.stderr).toBe(2);
    expect(received).toHaveLength(0);

    // Every tenant still has SMTP AUTH on: verify drifts in all three, one message for the fleet.
    const drift = await w.runAsync(fleet('verify'), env);
    expect(drift.code, drift.stdout + drift.stderr).toBe(2);
    expect(received).toHaveLength(1);
    const message = received[0]!;
    expect(message.summary).toBe('Drift found by fleet verify smtp-auth-fleet (3 of 3 tenant(s))');
    expect(message.text).toContain('exo-playbook: Drift found by fleet verify smtp-auth-fleet (3 of 3 tenant(s)) (exit 2)');
    expect(message.text).toContain('Tenants: 3, 3 not ok');
    for (const id of w.ids) expect(message.text).toMatch(new RegExp(`^- ${id.replace(/\./g, '\\.')}: drift, exit 2: `, 'm'));
    expect(message.text).toContain('Playbook: smtp-auth-fleet.yaml');
    expect(message.text).toContain('Change: CHG0042');
    for (const out of [drift.stdout, drift.stderr, message.text]) expect(out).not.toContain('SECRET-HOOK-PART');

    // Applied and verified compliant: nothing to say.
    received.length = 0;
    const apply = await w.runAsync(fleet('apply', '--yes'), env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const verify = await w.runAsync(fleet('verify'), env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(received).toHaveLength(0);
  });

  it('a sharded run is told once, from fleet merge: the shards run without it, the merged result posts for the whole fleet', async () => {
    w = new FleetWorkspace({ tenants: 3 });
    received.length = 0;
    const shards = ['1/2', '2/2'].map((shard, i) => ['fleet', 'verify', 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', '--shard', shard, '--result', `shard-${i + 1}.json`]);
    for (const args of shards) expect([0, 2]).toContain((await w.runAsync(args)).code);
    expect(received).toHaveLength(0);
    const merge = await w.runAsync(['fleet', 'merge', 'shard-1.json', 'shard-2.json', '--notify-webhook', 'env:EXO_WEBHOOK'], { EXO_WEBHOOK: url });
    expect(merge.code, merge.stdout + merge.stderr).toBe(2);
    expect(received).toHaveLength(1);
    expect(received[0]!.summary).toBe('Drift found by fleet verify smtp-auth-fleet (3 of 3 tenant(s))');
    for (const id of w.ids) expect(received[0]!.text).toContain(`- ${id}: drift, exit 2: `);
  });

  it('a tenant that fails is named first, with its exit code; a webhook that is down is a warning, never the exit code', async () => {
    w = new FleetWorkspace({ tenants: 2 });
    // The second tenant's state file is gone: its run ends with exit 1, the other drifts (exit 2).
    const [first, second] = w.ids;
    rmSync(w.statePath(second!));
    received.length = 0;
    const run = await w.runAsync(fleet('verify'), { EXO_WEBHOOK: url });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(received).toHaveLength(1);
    const lines = received[0]!.text.split('\n');
    expect(received[0]!.summary).toBe('fleet verify smtp-auth-fleet failed (2 of 2 tenant(s))');
    const listed = lines.filter((l) => l.startsWith('- '));
    expect(listed[0]).toMatch(new RegExp(`^- ${second!.replace(/\./g, '\\.')}: \\w+, exit 1: `));
    expect(listed[1]).toMatch(new RegExp(`^- ${first!.replace(/\./g, '\\.')}: drift, exit 2: `));

    // Nobody listening: the run's own exit code, and a warning that says so without the URL.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hooks/SECRET-HOOK-PART`;
    await new Promise((r) => closed.close(r));
    const down = await w.runAsync(fleet('verify'), { EXO_WEBHOOK: deadUrl });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('warning: --notify-webhook: notification not sent');
    expect(down.stderr + down.stdout).not.toContain('SECRET-HOOK-PART');
  });
});
