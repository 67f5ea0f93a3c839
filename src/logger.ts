import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.ts';

/** Keys and tokens never reach a log line, whichever field they turn up in. */
const REDACT = [
  'key',
  'apiKey',
  'authorization',
  'token',
  '*.key',
  '*.apiKey',
  '*.authorization',
  '*.token',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

export function createLogger(level: LogLevel): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: undefined });
}

export type { Logger };
