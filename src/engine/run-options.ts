/** Options every engine command takes (the CLI builds them from its flags). */
import type { AuthConfig } from '../playbook/schema.js';
import type { EngineDeps } from './deps.js';
import type { EventSink } from './types.js';

export interface RunOptions {
  deps: EngineDeps;
  /** exchange | sim:<state.json> */
  target: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  sinks?: readonly EventSink[];
  now?: () => Date;
  onDeviceCode?: (message: string) => void;
  /** Sign in this way instead of tenant.auth (`--workload-identity <appId>` on a CI runner). */
  auth?: AuthConfig;
}
