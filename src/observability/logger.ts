import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

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

/** JSON lines on stdout, or on `destination` (tests read it). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: undefined }, destination);
}

/** Yoga's own log lines, into the same JSON stream. */
export function yogaLogging(logger: Logger) {
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      logger[level](args.map(String).join(' '));
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

export type { Logger };
