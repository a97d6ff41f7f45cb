/**
 * @jest-environment node
 */
import { ServerConnection } from '@jupyterlab/services';

import { CollabRequestError, requestAPI } from '../src/request';

const BASE = 'http://localhost:8888/lab-base/';

function settingsWith(fetch: jest.Mock): ServerConnection.ISettings {
  return ServerConnection.makeSettings({ baseUrl: BASE, fetch });
}

/** The URL without the cache-busting query `no-store` requests get. */
function path(request: Request): string {
  const url = new URL(request.url);
  return `${url.origin}${url.pathname}`;
}

function reply(status: number, body: string, statusText = ''): jest.Mock {
  return jest.fn(async () => new Response(body, { status, statusText }));
}

async function failure(promise: Promise<unknown>): Promise<CollabRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CollabRequestError);
    return error as CollabRequestError;
  }
  throw new Error('the request did not fail');
}

describe('requestAPI', () => {
  it('joins collab/ to the server base URL and returns the JSON body', async () => {
    const fetch = reply(200, JSON.stringify({ version: '0.1.0' }));
    const body = await requestAPI<{ version: string }>(
      'version',
      {},
      settingsWith(fetch)
    );
    expect(body).toEqual({ version: '0.1.0' });
    const request = fetch.mock.calls[0][0] as Request;
    expect(path(request)).toBe(`${BASE}collab/version`);
    expect(request.method).toBe('GET');
  });

  it('keeps nested routes and the request options', async () => {
    const fetch = reply(200, '{"requests": []}');
    await requestAPI(
      'lakes/st-mary/requests',
      { method: 'POST', body: '{}' },
      settingsWith(fetch)
    );
    const request = fetch.mock.calls[0][0] as Request;
    expect(path(request)).toBe(`${BASE}collab/lakes/st-mary/requests`);
    expect(request.method).toBe('POST');
  });

  it("turns a 500 with collab's JSON error into a CollabRequestError with its message", async () => {
    const fetch = reply(
      500,
      JSON.stringify({
        error: { type: 'LakeError', message: 'st-jude did not answer in 10 s' }
      }),
      'Internal Server Error'
    );
    const error = await failure(requestAPI('lakes', {}, settingsWith(fetch)));
    expect(error.message).toBe('st-jude did not answer in 10 s');
    expect(error.status).toBe(500);
    expect(error.errorType).toBe('LakeError');
    expect(error.endPoint).toBe('lakes');
  });

  it("uses Jupyter server's own error message when collab's is absent", async () => {
    const fetch = reply(
      403,
      JSON.stringify({ message: 'Forbidden', reason: null }),
      'Forbidden'
    );
    const error = await failure(requestAPI('lakes', {}, settingsWith(fetch)));
    expect(error.message).toBe('Forbidden');
    expect(error.status).toBe(403);
    expect(error.errorType).toBe('HTTPError');
  });

  it('describes a non-JSON error page by its status', async () => {
    const fetch = reply(404, '<html>404: Not Found</html>', 'Not Found');
    const error = await failure(requestAPI('lakes', {}, settingsWith(fetch)));
    expect(error.message).toBe('The server answered 404 Not Found for collab/lakes.');
    expect(error.status).toBe(404);
  });

  it('turns a network failure into a CollabRequestError', async () => {
    const fetch = jest.fn(async () => {
      throw new TypeError('fetch failed');
    });
    const error = await failure(requestAPI('lakes', {}, settingsWith(fetch)));
    expect(error.status).toBeNull();
    expect(error.errorType).toBe('NetworkError');
    expect(error.message).toContain('Could not reach the Jupyter server');
    expect(error.message).toContain('fetch failed');
  });

  it('rejects a 200 reply that is not JSON', async () => {
    const fetch = reply(200, 'not json');
    const error = await failure(requestAPI('lakes', {}, settingsWith(fetch)));
    expect(error.errorType).toBe('BadResponse');
    expect(error.status).toBe(200);
  });
});
