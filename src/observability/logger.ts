// JSON lines on stdout through pino: one object per event, never image bytes or secrets.
// Lines keep the fields they had before pino: `time` (ISO 8601), `level` as its name, `msg`.
// pino writes to the stream on the calling thread; no transport, so no worker thread is started.
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function wrap(p: PinoLogger): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => (fields ? p[level](fields, msg) : p[level](msg));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => wrap(p.child(fields)) };
}

export function createLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}, out: NodeJS.WritableStream = process.stdout): Logger {
  const root = pino(
    {
      level,
      base: null,
      messageKey: 'msg',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    out as pino.DestinationStream,
  );
  return wrap(Object.keys(base).length ? root.child(base) : root);
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
