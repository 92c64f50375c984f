/**
 * Issue 22 point 5: Teams Workflows webhooks get an Adaptive Card, in the shape their "Send webhook
 * alerts to a channel" flow reads ({type: "message", attachments: [{contentType:
 * "application/vnd.microsoft.card.adaptive", content: AdaptiveCard}]}); the legacy {text, summary}
 * shape stays available (--notify-format text) and is the default for other URLs (Slack, connectors).
 */
import { describe, expect, it } from 'vitest';
import { buildWebhookMessage, notifyAfter, webhookFormatFor, type RunOutcome } from '../../src/engine/notify.js';

const outcome: RunOutcome = {
  command: 'verify',
  exitCode: 2,
  playbook: { name: 'smtp-auth-drift-check', file: '/etc/exo-playbook/smtp-auth-drift-check.yaml', change: 'CHG0042' },
  tenant: { organization: 'contoso.onmicrosoft.com', target: 'exchange' },
  host: 'jump01',
};

/** Runs notifyAfter with a fetch that records the body it was given. */
async function posted(url: string, format?: 'adaptive-card' | 'text'): Promise<unknown> {
  const bodies: unknown[] = [];
  const fetchImpl = (async (_url: string, init: { body: string }) => {
    bodies.push(JSON.parse(init.body));
    return new Response('1', { status: 202 });
  }) as unknown as typeof fetch;
  const warnings: string[] = [];
  const code = await notifyAfter(
    { spec: 'env:HOOK', command: 'verify', playbookFile: outcome.playbook.file, env: { HOOK: url }, warn: (l) => warnings.push(l), fetchImpl, ...(format ? { format } : {}) },
    async () => ({ exitCode: 2, outcome }),
  );
  expect(code).toBe(2);
  expect(warnings).toEqual([]);
  expect(bodies).toHaveLength(1);
  return bodies[0];
}

const WORKFLOWS = 'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=SECRET';

describe('Teams webhooks', () => {
  it('a Teams Workflows URL gets the Adaptive Card shape, with the headline and facts of the text message', async () => {
    const body = (await posted(WORKFLOWS)) as { type: string; attachments: { contentType: string; contentUrl: null; content: { type: string; version: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[] } }[] };
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const [attachment] = body.attachments;
    expect(attachment!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment!.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const [headline, facts] = attachment!.content.body;
    expect(headline).toMatchObject({ type: 'TextBlock', text: 'exo-playbook: Drift found by verify smtp-auth-drift-check (exit 2)', weight: 'Bolder' });
    expect(facts!.facts).toEqual(
      expect.arrayContaining([
        { title: 'Tenant', value: 'contoso.onmicrosoft.com (exchange)' },
        { title: 'Change', value: 'CHG0042' },
        { title: 'Host', value: 'jump01' },
      ]),
    );
    // The URL (a credential) is nowhere in what is posted.
    expect(JSON.stringify(body)).not.toContain('SECRET');
  });

  it('--notify-format text keeps the legacy {text, summary} shape, even for a Workflows URL', async () => {
    expect(await posted(WORKFLOWS, 'text')).toEqual(buildWebhookMessage(outcome));
  });

  it('other URLs (Slack, Office 365 connectors) get {text, summary} unless --notify-format adaptive-card', async () => {
    expect(webhookFormatFor('https://hooks.slack.com/services/T/B/X')).toBe('text');
    expect(webhookFormatFor('https://contoso.webhook.office.com/webhookb2/x')).toBe('text');
    expect(webhookFormatFor('https://default123.environment.api.powerplatform.com/powerautomate/x')).toBe('adaptive-card');
    expect(await posted('https://hooks.slack.com/services/T/B/X')).toEqual(buildWebhookMessage(outcome));
    expect(await posted('https://hooks.slack.com/services/T/B/X', 'adaptive-card')).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
  });
});
