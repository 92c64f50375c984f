/**
 * The environment variables that carry the GitHub OIDC request: secrets, never passed to pwsh. Its
 * own module so that withholding them does not load @azure/identity (workload-identity.ts does).
 */
export const GITHUB_OIDC_ENV = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'] as const;
