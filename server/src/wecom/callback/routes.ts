import getRawBody from 'raw-body';
import { Counter } from 'prom-client';
import { z } from 'zod';
import type { AppContext, HttpModule } from '../../http/index.ts';
import type { Metrics } from '../../observability/index.ts';
import { InboxWriter, type InboxModel } from '../inbox.ts';
import { CallbackRejected, openEnvelope, signatureMatches, type CallbackSecrets } from './crypto.ts';
import { parseWecomXml, textField } from './xml.ts';

const signedQuery = z.object({
  msg_signature: z.string().regex(/^[0-9a-fA-F]{40}$/, 'must be a 40-character hex sha1'),
  timestamp: z.string().regex(/^\d{1,12}$/, 'must be a unix timestamp'),
  nonce: z.string().min(1).max(64),
});
const verifyQuery = signedQuery.extend({ echostr: z.string().min(1).max(1024) });

/** Real callbacks are a few KB; anything near this is not WeCom. */
const BODY_LIMIT = '64kb';

export interface CallbackDeps {
  secrets: CallbackSecrets;
  inbox: InboxModel;
  metrics: Metrics;
  /** Called after an event is stored, so processing starts without waiting for a poll. */
  onStored: () => void;
  now?: () => Date;
}

/**
 * GET answers WeCom's URL check; POST stores the decrypted event in the inbox and answers 200 with
 * an empty body at once — the work happens later, well inside WeCom's 5-second deadline.
 */
export function wecomCallbackModule(deps: CallbackDeps): HttpModule {
  const callbacks = new Counter({
    name: 'wecom_callbacks_total',
    help: 'WeCom callbacks by outcome (stored, duplicate, verified, or the rejection reason)',
    labelNames: ['outcome'],
    registers: [deps.metrics.registry],
  });
  const now = deps.now ?? (() => new Date());
  const writer = new InboxWriter(deps.inbox);

  const rejected = (ctx: AppContext, err: CallbackRejected) => {
    callbacks.inc({ outcome: err.reason });
    ctx.state.log.warn({ reason: err.reason, ip: ctx.ip }, `WeCom callback rejected: ${err.message}`);
    ctx.status = err.reason === 'bad_signature' ? 401 : 400;
    ctx.body = { error: err.reason, message: err.message };
  };

  return {
    name: 'wecom-callback',
    mount(router) {
      router.get('/wecom/callback', (ctx) => {
        const query = verifyQuery.parse(ctx.query);
        try {
          if (!signatureMatches(deps.secrets, query, query.echostr)) {
            throw new CallbackRejected('bad_signature', 'msg_signature does not match');
          }
          ctx.type = 'text/plain';
          ctx.body = openEnvelope(deps.secrets, query.echostr);
          callbacks.inc({ outcome: 'verified' });
        } catch (err) {
          if (err instanceof CallbackRejected) return rejected(ctx, err);
          throw err;
        }
      });

      router.post('/wecom/callback', async (ctx) => {
        const query = signedQuery.parse(ctx.query);
        // The JSON/form body parser may already have consumed a mislabelled request.
        const body =
          typeof ctx.request.rawBody === 'string'
            ? ctx.request.rawBody
            : await getRawBody(ctx.req, { limit: BODY_LIMIT, encoding: 'utf8' });
        try {
          const encrypted = textField(parseWecomXml(body), 'Encrypt');
          if (!encrypted) throw new CallbackRejected('malformed_xml', 'no <Encrypt> element');
          if (!signatureMatches(deps.secrets, query, encrypted)) {
            throw new CallbackRejected('bad_signature', 'msg_signature does not match');
          }
          const fields = parseWecomXml(openEnvelope(deps.secrets, encrypted));
          const outcome = await writer.store(fields, now());
          callbacks.inc({ outcome });
          if (outcome === 'stored') deps.onStored();
          ctx.status = 200;
          ctx.body = '';
        } catch (err) {
          if (err instanceof CallbackRejected) return rejected(ctx, err);
          throw err;
        }
      });
    },
  };
}
