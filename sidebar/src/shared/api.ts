/** An answer from our API that is not 2xx: the status and the server's `{error, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** JSON over fetch with the session cookie; throws ApiError on any non-2xx answer. */
/** GET /auth/me: who is signed in as a rep and as an admin, and whether this is the demo. */
export interface AuthMe {
  rep: string | null;
  admin: string | null;
  demoMode: boolean;
  demoReps: string[];
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const data: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const { error, message } = (data ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, error ?? 'http_error', message ?? res.statusText);
  }
  return data as T;
}

/** A key for one user action, so a retried request is counted once by the server. */
export function actionKey(): string {
  // getRandomValues, unlike randomUUID, also works on plain-http pages (a demo opened by LAN address).
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
