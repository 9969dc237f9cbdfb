/** An answer from our API that is not 2xx: the status and the server's `{error, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole error body, for answers with more than a message (e.g. `problems`). */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** GET /auth/me: who is signed in as a rep and as an admin, and whether this is the demo. */
export interface AuthMe {
  rep: string | null;
  admin: string | null;
  demoMode: boolean;
  demoReps: string[];
}

/** JSON over fetch with the session cookie; throws ApiError on any non-2xx answer. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; raw?: Blob } = {}): Promise<T> {
  // `raw` sends bytes as they are (an image upload), typed by the blob's own content type.
  const type = init.raw ? init.raw.type : init.body === undefined ? null : 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: type ? { accept: 'application/json', 'content-type': type } : { accept: 'application/json' },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  const data = parseJson(text);
  if (!res.ok) {
    const body = (data ?? {}) as { error?: string; message?: string } & Record<string, unknown>;
    throw new ApiError(res.status, body.error ?? 'http_error', body.message ?? res.statusText, body);
  }
  return data as T;
}

/** The line an error shows the operator: `status message` for an API answer, else the error's own message. */
export const errorText = (err: unknown): string => (err instanceof ApiError ? `${err.status} ${err.message}` : (err as Error).message);

/** A key for one user action, so a retried request is counted once by the server. */
export function actionKey(): string {
  // getRandomValues, unlike randomUUID, also works on plain-http pages (a demo opened by LAN address).
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A body that is not JSON (a proxy's HTML error page) must still end up as an ApiError. */
function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}
