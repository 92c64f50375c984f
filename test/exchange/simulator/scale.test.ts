/**
 * The size and memory bound: a 100,000-mailbox tenant is generated in seconds, and a full streamed
 * Get-EXOCASMailbox read of it through SimulatedSession stays under 300 MB resident. Measured in
 * child processes running the built code (dist/), so the test runner's own memory does not count.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const dist = path.join(root, 'dist/exchange/simulator');
let dir: string;

beforeAll(async () => {
  if (!existsSync(path.join(dist, 'session.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  dir = await mkdtemp(path.join(tmpdir(), 'sim-scale-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function runChild(script: string): Record<string, number> {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
}

describe('a 100,000-mailbox tenant', () => {
  it('is generated and written in seconds, and streamed under 300 MB resident', async () => {
    const file = path.join(dir, 'tenant-100k.json');
    const made = runChild(`
      import { generateTenant } from ${JSON.stringify(path.join(dist, 'generate.js'))};
      import { writeStateFile } from ${JSON.stringify(path.join(dist, 'state-file.js'))};
      const t0 = performance.now();
      const state = generateTenant({ mailboxes: 100000, seed: 'scale', clock: '2026-11-20T09:00:00Z' });
      const generateMs = performance.now() - t0;
      const t1 = performance.now();
      await writeStateFile(${JSON.stringify(file)}, state);
      console.log(JSON.stringify({ generateMs, writeMs: performance.now() - t1 }));
    `);
    const size = (await stat(file)).size;

    const read = runChild(`
      import { SimulatedSession } from ${JSON.stringify(path.join(dist, 'session.js'))};
      let peak = process.memoryUsage().rss;
      const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
      const timer = setInterval(sample, 5);
      const t0 = performance.now();
      const session = await SimulatedSession.open(${JSON.stringify(file)});
      const openMs = performance.now() - t0;
      sample();
      const afterOpenRssMb = process.memoryUsage().rss / 1048576;
      let count = 0, off = 0, on = 0, follows = 0;
      for await (const m of session.stream('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] })) {
        count++;
        if (m.SmtpClientAuthenticationDisabled === true) off++; else if (m.SmtpClientAuthenticationDisabled === false) on++; else follows++;
        if (count % 1000 === 0) sample();
      }
      sample();
      clearInterval(timer);
      await session.close();
      console.log(JSON.stringify({ count, off, on, follows, openMs, readMs: performance.now() - t0 - openMs, afterOpenRssMb, peakRssMb: peak / 1048576 }));
    `);

    // The numbers are the point of this test: print them for the report.
    console.log(
      `100k tenant: generate ${made.generateMs!.toFixed(0)} ms, write ${made.writeMs!.toFixed(0)} ms, file ${(size / 1048576).toFixed(1)} MB; ` +
        `open ${read.openMs!.toFixed(0)} ms, streamed read ${read.readMs!.toFixed(0)} ms, RSS after open ${read.afterOpenRssMb!.toFixed(0)} MB, peak RSS ${read.peakRssMb!.toFixed(0)} MB`,
    );
    expect(read.count).toBe(100_000);
    expect(read.off! + read.on! + read.follows!).toBe(100_000);
    expect(read.on).toBe(1000);
    expect(read.peakRssMb).toBeLessThan(300);
    // "A few seconds" on a quiet machine; generous because the test machine is shared.
    expect(made.generateMs).toBeLessThan(15_000);
  });
});
