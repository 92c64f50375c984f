/** What sign-in code needs from its caller; tests pass their own resolveSecret and device-code sink. */
export interface SignInContext {
  /** The tenant, e.g. contoso.onmicrosoft.com: the token authority's tenant and -Organization. */
  organization: string;
  env: NodeJS.ProcessEnv;
  /** The playbook's folder: relative certificate paths and ${file:...} secrets start here. */
  baseDir: string;
  /** Shows the device-code sign-in message to the user (above any task list on screen). */
  onDeviceCode: (message: string) => void;
  /** Turns a secret reference (${env:NAME} / ${file:path}) into its text. */
  resolveSecret: (reference: string) => Promise<string>;
}
