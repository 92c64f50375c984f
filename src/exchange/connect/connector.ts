/**
 * A Connector signs in as tenant.auth says and runs Connect-ExchangeOnline on a session, again
 * whenever the session needs it (token near expiry, pwsh host restarted). One per session.
 */
import type { TokenCredential } from '@azure/identity';
import { SessionError } from '../../errors.js';
import { resolveSecret } from '../../playbook/resolve.js';
import { certificateSignIn, type Playbook } from '../../playbook/schema.js';
import type { ExchangeSession } from '../session.js';
import type { SignInContext } from './context.js';
import type { CredentialAuth } from './credentials.js';
import { assertThumbprintPlatform, moduleConnectRequest, type ModuleSignInAuth } from './module-sign-in.js';
import { baseConnectParameters, tokenConnectRequest, type ConnectRequest, type TokenPartnerParameter } from './parameters.js';
import { signInFailed, type SignInDescription } from './sign-in-error.js';
import { credentialTokenSource, suppliedTokenSource, tokenPartner, type AccessTokenGrant, type AccessTokenSource } from './token-source.js';

export type Tenant = Playbook['tenant'];

export type Invoker = Pick<ExchangeSession, 'invoke'>;

/** Why connect runs: first time, after the host restarted (the module lost its sign-in), token near expiry. */
export type ConnectReason = 'initial' | 'restart' | 'expiry';

export interface Connector {
  readonly description: SignInDescription;
  /** Only `invoke` is used: the pwsh restart hook hands over a bare invoke for the fresh host. */
  connect(session: Invoker, reason: ConnectReason): Promise<void>;
  /** When the runner must renew the sign-in; null when it never does (module sign-in renews itself). */
  expiresOn(): Date | null;
}

export interface ConnectorOptions {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  /** The cmdlets the playbook needs (-CommandName). */
  cmdlets: readonly string[];
  onDeviceCode?: (message: string) => void;
  log?: (line: string) => void;
  /** Defaults to the playbook resolver's resolveSecret. */
  resolveSecret?: (reference: string, env: NodeJS.ProcessEnv, baseDir: string) => Promise<string>;
  /** Test seam: the credential for a token sign-in. */
  credentialFor?: (auth: CredentialAuth, context: SignInContext) => Promise<TokenCredential>;
  now?: () => number;
}

function defaultDeviceCodeSink(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** How the module's device-code prompt reads ("...open the page https://microsoft.com/devicelogin and enter the code..."). */
export const DEVICE_CODE_TEXT = /devicelogin|enter the code/i;

export function createConnector(tenant: Tenant, options: ConnectorOptions): Connector {
  const secretResolver = options.resolveSecret ?? resolveSecret;
  const context: SignInContext = {
    organization: tenant.organization,
    env: options.env,
    baseDir: options.baseDir,
    onDeviceCode: options.onDeviceCode ?? defaultDeviceCodeSink,
    resolveSecret: (reference) => secretResolver(reference, options.env, options.baseDir),
  };
  const auth = tenant.auth;
  assertThumbprintPlatform(auth);
  // Only the module can use a certificate from the Windows store (Connect-ExchangeOnline -Certificate).
  if (auth.method === 'certificate-thumbprint') return new ModuleConnector(describe(tenant), auth, context, options);
  if (auth.method === 'access-token') {
    return new TokenConnector(describe(tenant), suppliedTokenSource(auth.token, context), options);
  }
  if (signInOf(auth) === 'token') {
    // @azure/identity loads only for the methods that use it (not for access-token, nor the simulator).
    const makeCredential = options.credentialFor ?? (async (a: CredentialAuth, c: SignInContext) => (await import('./credentials.js')).credentialFor(a, c));
    let source: AccessTokenSource | null = null;
    // The credential is built on first use: building one may already read files or the environment.
    const lazySource: AccessTokenSource = async () => {
      source ??= credentialTokenSource(await makeCredential(auth, context));
      return source();
    };
    return new TokenConnector(describe(tenant), lazySource, options);
  }
  if (auth.method === 'azure-cli' || auth.method === 'workload-identity' || auth.method === 'partner') throw new Error(`unreachable: ${auth.method} signs in with a token`);
  return new ModuleConnector(describe(tenant), auth, context, options);
}

/** The simulator has no sign-in, but still gets Connect-ExchangeOnline so a wrong organization fails alike. */
export function simulatorConnector(organization: string, cmdlets: readonly string[]): Connector {
  const description: SignInDescription = { organization, method: 'simulator', signIn: 'none' };
  return {
    description,
    connect: (session) =>
      runConnect(session, { parameters: baseConnectParameters(organization, cmdlets), secretParameters: [] }, description, []),
    expiresOn: () => null,
  };
}

/** token or module: as the playbook says, a certificate by its file when it does not say. */
function signInOf(auth: Tenant['auth']): 'token' | 'module' {
  if (auth.method === 'access-token' || auth.method === 'azure-cli' || auth.method === 'workload-identity' || auth.method === 'partner') return 'token';
  if (auth.method === 'certificate') return certificateSignIn(auth);
  if (auth.method === 'certificate-thumbprint') return 'module';
  return auth.signIn;
}

function describe(tenant: Tenant): SignInDescription {
  const auth = tenant.auth;
  const signIn = signInOf(auth);
  const description: SignInDescription = { organization: tenant.organization, method: auth.method, signIn };
  if (auth.method === 'certificate' || auth.method === 'certificate-thumbprint' || auth.method === 'workload-identity' || auth.method === 'partner') description.appId = auth.appId;
  if (auth.method === 'partner') description.tokenTenant = auth.customerTenantId ?? tenant.organization;
  if ((auth.method === 'managed-identity' || auth.method === 'device-code') && auth.clientId) description.clientId = auth.clientId;
  return description;
}

async function runConnect(
  session: Invoker,
  request: ConnectRequest,
  description: SignInDescription,
  secrets: readonly (string | undefined)[],
  onWarning?: (message: string) => void,
): Promise<void> {
  let result;
  try {
    result = await session.invoke('Connect-ExchangeOnline', request.parameters, {
      secretParameters: request.secretParameters,
      ...(onWarning ? { onWarning } : {}),
    });
  } catch (error) {
    throw signInFailed(description, error, secrets);
  }
  // A connect that wrote an error record did not leave a session we can trust.
  const [firstError] = result.errors;
  if (firstError) throw signInFailed(description, new Error(firstError.message), secrets);
}

class TokenConnector implements Connector {
  private current: AccessTokenGrant | null = null;
  private readonly now: () => number;

  constructor(
    readonly description: SignInDescription,
    private readonly source: AccessTokenSource,
    private readonly options: ConnectorOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  expiresOn(): Date | null {
    return this.current?.expiresOn ?? null;
  }

  async connect(session: Invoker, reason: ConnectReason): Promise<void> {
    let grant: AccessTokenGrant;
    try {
      grant = await this.source();
    } catch (error) {
      throw signInFailed(this.description, error, [this.current?.token]);
    }
    if (grant.expiresOn && grant.expiresOn.getTime() <= this.now()) {
      throw new SessionError(
        `Sign-in to ${this.description.organization} failed (${this.description.method}): the access token expired at ${grant.expiresOn.toISOString()}. Provide a fresh token.`,
      );
    }
    if (reason === 'expiry' && this.current?.token === grant.token) {
      // A supplied token cannot be renewed by us; keep using it until it really expires.
      this.options.log?.(`sign-in: the access token was not renewed (expires ${grant.expiresOn?.toISOString() ?? 'unknown'})`);
      return;
    }
    const tenantParameter = tokenTenantParameter(this.description, grant.token);
    const how =
      tenantParameter.kind === 'delegated-organization'
        ? `as a partner (-DelegatedOrganization, a token from tenant ${this.description.tokenTenant ?? this.description.organization})`
        : tenantParameter.kind === 'user'
          ? `with a delegated token for ${tenantParameter.userPrincipalName}`
          : 'with an app-only token';
    this.options.log?.(`sign-in: connecting to ${this.description.organization} ${how} (${reason})`);
    await runConnect(session, tokenConnectRequest(this.description.organization, this.options.cmdlets, grant.token, tenantParameter), this.description, [
      grant.token,
    ]);
    this.current = grant;
  }
}

/** Which parameter names the tenant or user the token is for. */
function tokenTenantParameter(description: SignInDescription, token: string): TokenPartnerParameter {
  // A partner's token (from the customer's tenant) names the customer with -DelegatedOrganization,
  // whichever kind it is: the Secure Application Model's delegated token or an app-only one.
  if (description.method === 'partner') return { kind: 'delegated-organization' };
  // Delegated tokens (a person's: device code, Azure CLI) name their user; app-only ones the tenant.
  const expected = description.method === 'device-code' || description.method === 'azure-cli' ? 'delegated' : 'app';
  const partner = tokenPartner(token, expected);
  if (partner.kind === 'delegated-without-upn') {
    throw new SessionError(
      `Sign-in to ${description.organization} failed (${description.method}): the access token is a delegated (user) token without a upn claim, so Connect-ExchangeOnline cannot be given -UserPrincipalName. Use an app-only token, or sign in as a user with a UPN.`,
    );
  }
  return partner.kind === 'delegated' ? { kind: 'user', userPrincipalName: partner.userPrincipalName } : { kind: 'organization' };
}

class ModuleConnector implements Connector {
  constructor(
    readonly description: SignInDescription,
    private readonly auth: ModuleSignInAuth,
    private readonly context: SignInContext,
    private readonly options: ConnectorOptions,
  ) {}

  expiresOn(): Date | null {
    return null;
  }

  async connect(session: Invoker, reason: ConnectReason): Promise<void> {
    const certificatePassword =
      this.auth.method === 'certificate' && this.auth.certificatePassword
        ? await this.context.resolveSecret(this.auth.certificatePassword)
        : undefined;
    const request = moduleConnectRequest(this.description.organization, this.options.cmdlets, this.auth, this.context.baseDir, {
      ...(certificatePassword !== undefined ? { certificatePassword } : {}),
    });
    this.options.log?.(`sign-in: connecting to ${this.description.organization}, the module signs in (${reason})`);
    // The module prints the device-code prompt itself; make sure it reaches the user, not just a log.
    const onWarning = (message: string): void => {
      if (DEVICE_CODE_TEXT.test(message)) this.context.onDeviceCode(message);
      else this.options.log?.(`Connect-ExchangeOnline: ${message}`);
    };
    await runConnect(session, request, this.description, [certificatePassword], onWarning);
  }
}
