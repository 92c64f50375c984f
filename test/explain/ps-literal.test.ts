import { describe, expect, it } from 'vitest';
import { formatCall, psLiteral, quoteString } from '../../src/explain/ps-literal.js';

describe('PowerShell literals', () => {
  it('writes the documented organization switch the way Microsoft does', () => {
    expect(formatCall('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true })).toBe(
      'Set-TransportConfig -SmtpClientAuthenticationDisabled $true',
    );
    expect(formatCall('Set-CASMailbox', { Identity: 'a@contoso.com', SmtpClientAuthenticationDisabled: null })).toBe(
      "Set-CASMailbox -Identity 'a@contoso.com' -SmtpClientAuthenticationDisabled $null",
    );
  });

  it('doubles straight and smart single quotes and leaves $, backticks and ; inert', () => {
    expect(quoteString("O'Brien")).toBe("'O''Brien'");
    expect(quoteString('a\u2018b\u2019c\u201Ad\u201Be')).toBe("'a\u2018\u2018b\u2019\u2019c\u201A\u201Ad\u201B\u201Be'");
    expect(quoteString('$(Remove-Item x); `n')).toBe("'$(Remove-Item x); `n'");
  });

  it('writes switches with a colon, numbers, arrays and hashtables as literals', () => {
    expect(formatCall('Disconnect-ExchangeOnline', { Confirm: false })).toBe('Disconnect-ExchangeOnline -Confirm:$false');
    expect(psLiteral(7)).toBe('7');
    expect(psLiteral(-5)).toBe('(-5)');
    expect(psLiteral(['a', "b'c"])).toBe("@('a','b''c')");
    expect(psLiteral([])).toBe('@()');
    expect(psLiteral([['x', 'y']])).toBe("@(,@('x','y'))");
    expect(psLiteral({ k: 1, "it's": null })).toBe("@{'k'=1; 'it''s'=$null}");
  });

  it('refuses names that would not be a single cmdlet or parameter', () => {
    expect(() => formatCall('Get-Thing; rm', {})).toThrow(RangeError);
    expect(() => formatCall('Get-Thing', { 'a b': 1 })).toThrow(RangeError);
  });
});
