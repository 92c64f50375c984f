/** Options every engine command takes (the CLI builds them from its flags). */
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
}
