import { vi } from 'vitest';

export interface Call { method: string; path: string; body: unknown }
type Handler = (call: Call) => { status?: number; body: unknown } | undefined;

/** Answers the page's API calls from a table, and records them: the server is not started for component tests. */
export function mockFetch(handler: Handler): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const call: Call = { method: init.method ?? 'GET', path: String(input), body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body };
    calls.push(call);
    const answer = handler(call) ?? { status: 404, body: { error: 'not_found', message: `no mock for ${call.method} ${call.path}` } };
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
