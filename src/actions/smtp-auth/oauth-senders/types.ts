/** The step's `with` block, as the schema resolves it. */
import type { z } from 'zod';
import type { oauthSendersWith } from '../../../playbook/schema.js';

export type OAuthSendersWith = z.infer<typeof oauthSendersWith>;
export type OAuthSenderApplication = OAuthSendersWith['applications'][number];
