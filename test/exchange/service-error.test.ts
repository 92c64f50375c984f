import { describe, expect, it } from 'vitest';
import { describeServiceError, isNotFoundRecord, isThrottlingRecord, parseServiceError } from '../../src/exchange/service-error.js';
import type { CmdletErrorRecord } from '../../src/exchange/session.js';

const record = (message: string, exceptionType = 'System.Exception', code?: string): CmdletErrorRecord => ({
  exceptionType,
  fullyQualifiedErrorId: 'X',
  message,
  ...(code ? { code } : {}),
});

// The REST form as seen in the wild (MicrosoftDocs/office-docs-powershell#4333).
const REST_404 =
  'Error while querying REST service. HttpStatusCode=404 ErrorMessage={"error":{"code":"NotFound","message":"An server side error occured.","innererror":{"message":"An server side error\\noccured.","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}';

describe('service errors as the v3 cmdlets give them', () => {
  it('takes apart the three shapes: code|type|text, the empty-code |type|text, and the REST form', () => {
    expect(parseServiceError(record("Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found on 'S1.PROD.OUTLOOK.COM'."))).toEqual({
      code: 'Ex6F9304',
      exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      text: "The operation couldn't be performed because object 'x' couldn't be found on 'S1.PROD.OUTLOOK.COM'.",
      httpStatus: null,
    });
    expect(parseServiceError(record('|Microsoft.Exchange.Management.Tasks.RecipientTaskException|The mailbox is being moved.'))).toEqual({
      code: null,
      exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException',
      text: 'The mailbox is being moved.',
      httpStatus: null,
    });
    expect(parseServiceError(record(REST_404, 'Microsoft.Exchange.Management.RestApiClient.RestClientException'))).toEqual({
      code: 'NotFound',
      exceptionType: 'Microsoft.Exchange.Management.RestApiClient.RestClientException',
      text: 'An server side error occured.',
      httpStatus: 404,
    });
    // Already split by the pwsh host: the code travels beside the text.
    expect(parseServiceError(record('text', 'T', 'Ex1'))).toMatchObject({ code: 'Ex1', text: 'text' });
  });

  it('describes a failure by the service text first, then type, status and code', () => {
    expect(describeServiceError(record(REST_404, 'Microsoft.Exchange.Management.RestApiClient.RestClientException'))).toBe(
      'An server side error occured. (RestClientException, HTTP 404, code NotFound)',
    );
    expect(describeServiceError(record('plain'))).toBe('plain');
  });

  it('tells throttling (text or HTTP status) and not-found apart from other failures', () => {
    expect(isThrottlingRecord(record('|X|You have reached the maximum number of concurrent requests per tenant. Please wait and try again'))).toBe(true);
    expect(isThrottlingRecord(record('Server Busy'))).toBe(true);
    expect(isThrottlingRecord(record('Error while querying REST service. HttpStatusCode=429 ErrorMessage={"error":{"code":"TooManyRequests","message":"slow down"}}'))).toBe(true);
    expect(isThrottlingRecord(record('Error while querying REST service. HttpStatusCode=500 ErrorMessage={"error":{"code":"InternalServerError","message":"boom"}}'))).toBe(false);
    expect(isNotFoundRecord(record("Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|couldn't be found"))).toBe(true);
    expect(isNotFoundRecord(record(REST_404))).toBe(false);
    expect(isNotFoundRecord(record('|Microsoft.Exchange.Management.Tasks.RecipientTaskException|boom'))).toBe(false);
  });
});
