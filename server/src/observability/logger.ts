import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths that may carry secrets anywhere in a log line; pino replaces their values. */
const REDACT = [
  'secret',
  '*.secret',
  'token',
  '*.token',
  'password',
  '*.password',
  'access_token',
  '*.access_token',
  'corpsecret',
  '*.corpsecret',
  'encodingAesKey',
  '*.encodingAesKey',
  'sessionSecret',
  '*.sessionSecret',
  'adminToken',
  '*.adminToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export function createLogger(options: { level: LevelWithSilent; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'wecom-scrm' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
