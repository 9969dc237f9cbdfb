import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('logger', () => {
  it('writes structured JSON lines with level, time and message', () => {
    const { lines, logger } = capture();
    logger.child({ module: 'store' }).info({ docs: 3 }, 'recovered');
    expect(lines[0]).toMatchObject({ level: 30, module: 'store', docs: 3, msg: 'recovered', service: 'wecom-scrm' });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('never writes secrets, wherever they appear', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        secret: 's1',
        token: 't1',
        config: { secret: 's2', encodingAesKey: 'k', adminToken: 'a' },
        req: { headers: { authorization: 'Bearer x', cookie: 'sid=1' } },
        query: { access_token: 'at', corpsecret: 'cs' },
      },
      'with secrets',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['s1', 't1', 's2', '"k"', '"a"', 'Bearer x', 'sid=1', '"at"', '"cs"']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
  });
});
