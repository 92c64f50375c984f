/**
 * What a failed token sign-in tells the person: the service's own description (Entra's AADSTS text),
 * not the library's wrapper text. sign-in-error.ts recognises @azure/identity's AuthenticationError
 * without importing the library (so runs that never use it do not load it): checked here against the
 * real class.
 */
import { AuthenticationError } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { serviceMessage } from '../../../src/exchange/connect/sign-in-error.js';

describe('the message of a failed sign-in', () => {
  it("quotes Entra's error description from an @azure/identity AuthenticationError, first line, no closing full stop", () => {
    const error = new AuthenticationError(401, {
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0000\r\nCorrelation ID: 1111',
    });
    expect(serviceMessage(error)).toBe('AADSTS7000215: Invalid client secret provided');
  });

  it('quotes any other error by its message', () => {
    expect(serviceMessage(new Error('connection refused.'))).toBe('connection refused');
    const lookalike = Object.assign(new Error('plain'), { name: 'AuthenticationError' });
    expect(serviceMessage(lookalike)).toBe('plain');
  });
});
