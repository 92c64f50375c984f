import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fanOut, openEventLog, redact, REDACTED } from '../../src/engine/event-log.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('event log (--log-file)', () => {
  it('appends one JSON line per event and keeps earlier lines', async () => {
    dir = await mkdtemp(join(tmpdir(), 'evlog-'));
    const file = join(dir, 'logs', 'run.jsonl');
    const first = openEventLog(file);
    first.emit({ type: 'run-start', at: '2026-11-23T10:00:00Z', message: 'start' });
    first.close();
    const second = openEventLog(file);
    second.emit({ type: 'change-end', at: '2026-11-23T10:00:01Z', message: 'done', target: 'a@contoso.com' });
    second.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['run-start', 'change-end']);
    expect(lines[1].target).toBe('a@contoso.com');
  });

  it('redacts secret-named fields and known secret values anywhere in an event', async () => {
    dir = await mkdtemp(join(tmpdir(), 'evlog-'));
    const file = join(dir, 'run.jsonl');
    const webhook = 'https://hooks.example.test/services/T000/B000/XXXXSECRET';
    const log = openEventLog(file, { secrets: [webhook, 'eyJtoken-value'] });
    log.emit({
      type: 'connect',
      at: '2026-11-23T10:00:00Z',
      message: `posting to ${webhook}`,
      parameters: { AccessToken: 'eyJtoken-value', Organization: 'contoso.onmicrosoft.com', CertificatePassword: 'pw' },
      note: 'token was eyJtoken-value',
    });
    log.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('XXXXSECRET');
    expect(text).not.toContain('eyJtoken-value');
    expect(text).not.toContain('"pw"');
    const event = JSON.parse(text);
    expect(event.parameters.Organization).toBe('contoso.onmicrosoft.com');
    expect(event.parameters.AccessToken).toBe(REDACTED);
    expect(event.message).toBe(`posting to ${REDACTED}`);
  });

  it('keeps non-secret false/null values of secret-looking keys readable', () => {
    expect(redact({ hasToken: false, password: null })).toEqual({ hasToken: false, password: null });
  });

  it('fanOut keeps going when one sink throws', () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const sink = fanOut(
      [{ emit: () => { throw new Error('disk full'); } }, { emit: (e) => seen.push(e.type) }],
      (e) => errors.push(e),
    );
    sink.emit({ type: 'warning', at: 'x', message: 'y' });
    expect(seen).toEqual(['warning']);
    expect(errors).toHaveLength(1);
  });
});
