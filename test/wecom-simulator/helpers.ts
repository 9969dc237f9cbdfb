import type { WecomSimulator } from '../../server/src/wecom-simulator/index.ts';

export interface Answer {
  errcode: number;
  errmsg: string;
  [field: string]: unknown;
}

/** Talks to the simulator the way any qyapi client would: raw HTTP, JSON in and out. */
export async function callApi(
  sim: WecomSimulator,
  path: string,
  options: { query?: Record<string, string>; body?: unknown; token?: string | null } = {},
): Promise<Answer> {
  const url = new URL(sim.apiBase + path);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const token = options.token === undefined ? await accessToken(sim) : options.token;
  if (token !== null) url.searchParams.set('access_token', token);
  const response = await fetch(url, {
    method: options.body === undefined ? 'GET' : 'POST',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body), headers: { 'content-type': 'application/json' } }),
  });
  return (await response.json()) as Answer;
}

export async function accessToken(sim: WecomSimulator): Promise<string> {
  const answer = await callApi(sim, '/gettoken', { query: { corpid: sim.corp.corpId, corpsecret: sim.corp.secret }, token: null });
  return answer.access_token as string;
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}
