/**
 * WeCom's side of the campaign benches, in a process of its own (as WeCom's servers are not in
 * ours): it offers the signed callbacks at a paced rate, and on request it is also a plain WeCom
 * API that answers every call at once (no rules, no state), recording when each welcome arrived.
 * Driven over IPC by offered-welcomes.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ToLoad =
  | { type: 'instant-wecom' }
  /** `startAt`: when the first goes (wall-clock ms); the events were signed for their planned seconds. */
  | { type: 'offer'; rate: number; startAt: number; offers: Array<{ url: string; body: string }> }
  | { type: 'welcomes' };
export type FromLoad =
  | { type: 'instant-wecom'; apiBase: string }
  | { type: 'offered'; offeredAt: number[]; statuses: number[] }
  | { type: 'welcomes'; sends: Array<{ code: string; at: number }> };

const reply = (message: FromLoad) => process.send!(message);
const welcomes: Array<{ code: string; at: number }> = [];

process.on('message', (message: ToLoad) => {
  if (message.type === 'instant-wecom') void instantWecom().then((apiBase) => reply({ type: 'instant-wecom', apiBase }));
  if (message.type === 'offer') void offer(message.rate, message.startAt, message.offers).then((result) => reply({ type: 'offered', ...result }));
  if (message.type === 'welcomes') reply({ type: 'welcomes', sends: welcomes });
});

async function offer(rate: number, started: number, offers: Array<{ url: string; body: string }>) {
  const offeredAt: number[] = [];
  const answers: Array<Promise<number>> = [];
  for (const [i, item] of offers.entries()) {
    // Paced against the start, so a slow tick catches up instead of stretching the run.
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    offeredAt.push(Date.now());
    answers.push(
      fetch(item.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: item.body }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      ),
    );
  }
  return { offeredAt, statuses: await Promise.all(answers) };
}

/** Answers what the add-contact path calls, at once; every other API answers errcode 0. */
async function instantWecom(): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://wecom');
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer(url, body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin`;
}

function answer(url: URL, body: Record<string, unknown>): Record<string, unknown> {
  switch (url.pathname.replace(/^\/cgi-bin/, '')) {
    case '/gettoken':
      return { errcode: 0, errmsg: 'ok', access_token: 'instant', expires_in: 7200 };
    case '/externalcontact/get': {
      const id = url.searchParams.get('external_userid') ?? '';
      return {
        errcode: 0,
        errmsg: 'ok',
        external_contact: { external_userid: id, name: `客户${id.slice(-6)}`, type: 1 },
        follow_user: [{ userid: id.split('-')[1] ?? 'rep', createtime: Math.floor(Date.now() / 1000), tags: [] }],
      };
    }
    case '/externalcontact/send_welcome_msg':
      welcomes.push({ code: String(body.welcome_code), at: Date.now() });
      return { errcode: 0, errmsg: 'ok' };
    case '/user/get':
      return { errcode: 0, errmsg: 'ok', userid: url.searchParams.get('userid'), name: '销售' };
    default:
      return { errcode: 0, errmsg: 'ok' };
  }
}
