/**
 * The prober for a target: `sim:<state.json>` answers from that state file; `exchange` talks to the
 * real submission endpoint named by the probe.
 */
import { resolve } from 'node:path';
import type { Playbook } from '../playbook/schema.js';
import { probeSecretSource } from './credentials.js';
import { SimulatedProber } from './simulated.js';
import type { SmtpProber } from './types.js';

export interface OpenProberOptions {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  tenant?: Playbook['tenant'];
  onDeviceCode?: (message: string) => void;
  now?: () => Date;
}

export async function openProber(target: string, options: OpenProberOptions): Promise<SmtpProber> {
  const secrets = probeSecretSource(options);
  if (target.startsWith('sim:')) return new SimulatedProber(resolve(options.baseDir, target.slice('sim:'.length)), secrets, options.now);
  // nodemailer is loaded only when a real server is probed.
  const { NodemailerProber } = await import('./client.js');
  return new NodemailerProber(secrets, options.now);
}
