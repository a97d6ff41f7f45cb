/**
 * The one function that talks to the collab server extension.
 *
 * Every failure (the server cannot be reached, a non-OK status, a body that
 * is not JSON) becomes a `CollabRequestError`. When the server answers with
 * its error shape, `{"error": {"type": "...", "message": "..."}}`, that
 * message is the error's message: server errors are translated here and
 * nowhere else.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The URL namespace of the server extension's routes. */
export const API_NAMESPACE = 'collab';

/** Any failed call to the collab server extension. */
export class CollabRequestError extends Error {
  /** HTTP status, or `null` when no response came back. */
  readonly status: number | null;
  /**
   * The server's error type (`"LakeError"`, `"PolicyViolation"`...), or
   * `"NetworkError"` / `"HTTPError"` / `"BadResponse"` when the server did
   * not name one.
   */
  readonly errorType: string;
  /** The route that was called, relative to `collab/`. */
  readonly endPoint: string;

  constructor(
    message: string,
    options: { status: number | null; errorType: string; endPoint: string }
  ) {
    super(message);
    this.name = 'CollabRequestError';
    this.status = options.status;
    this.errorType = options.errorType;
    this.endPoint = options.endPoint;
    // Keep `instanceof` working when compiled to ES5-style classes.
    Object.setPrototypeOf(this, CollabRequestError.prototype);
  }
}

/**
 * Call a route of the collab server extension and return its JSON body.
 *
 * @param endPoint Route below `collab/`, e.g. `"lakes"` or `"lakes/st-mary/requests"`.
 * @param init Fetch options (method, body...).
 * @param settings Server settings; the page's own by default.
 * @throws {CollabRequestError} on any failure.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CollabRequestError(`Could not reach the Jupyter server (${reason}).`, {
      status: null,
      errorType: 'NetworkError',
      endPoint
    });
  }

  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CollabRequestError(
      `The connection broke while reading the reply (${reason}).`,
      { status: response.status, errorType: 'NetworkError', endPoint }
    );
  }

  let body: unknown = undefined;
  let parsed = text.length === 0;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }

  if (!response.ok) {
    const { type, message } = Private.serverError(body);
    const fallback =
      `The server answered ${response.status}` +
      (response.statusText ? ` ${response.statusText}` : '') +
      ` for ${API_NAMESPACE}/${endPoint}.`;
    throw new CollabRequestError(message ?? fallback, {
      status: response.status,
      errorType: type ?? 'HTTPError',
      endPoint
    });
  }

  if (!parsed) {
    throw new CollabRequestError(
      `The server's reply to ${API_NAMESPACE}/${endPoint} is not JSON.`,
      { status: response.status, errorType: 'BadResponse', endPoint }
    );
  }
  return body as T;
}

namespace Private {
  /**
   * Read an error body: collab's `{"error": {"type", "message"}}` first, then
   * Jupyter server's own `{"message": ...}` (auth failures, unknown routes).
   */
  export function serverError(body: unknown): {
    type: string | null;
    message: string | null;
  } {
    if (!body || typeof body !== 'object') {
      return { type: null, message: null };
    }
    const record = body as { [key: string]: unknown };
    const error = record.error;
    if (error && typeof error === 'object') {
      const detail = error as { [key: string]: unknown };
      return {
        type: typeof detail.type === 'string' ? detail.type : null,
        message:
          typeof detail.message === 'string' && detail.message ? detail.message : null
      };
    }
    if (typeof error === 'string' && error) {
      return { type: null, message: error };
    }
    if (typeof record.message === 'string' && record.message) {
      return { type: null, message: record.message };
    }
    return { type: null, message: null };
  }
}
