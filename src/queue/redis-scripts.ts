import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

// Scripts live in src/queue/lua as <name>-<numKeys>.lua, each with a KEYS/ARGV header.
const FILES = {
  enqueue: 'enqueue-3.lua',
  promote: 'promote-2.lua',
  start: 'start-4.lua',
  complete: 'complete-4.lua',
  fail: 'fail-5.lua',
  heartbeat: 'heartbeat-1.lua',
  forgetConsumer: 'forget-consumer-1.lua',
  retryDead: 'retry-dead-3.lua',
  reserveIdempotency: 'reserve-idempotency-1.lua',
  releaseIdempotency: 'release-idempotency-1.lua',
} as const;

export type ScriptName = keyof typeof FILES;
type ScriptArg = string | number;
type Runner = (...args: ScriptArg[]) => Promise<unknown>;

// From src/queue/ under tsx; compiled code runs from dist/src/queue/ and reads the source tree.
const SEARCH = ['./lua/', '../../../src/queue/lua/'];

function readScript(file: string): string {
  for (const dir of SEARCH) {
    try {
      return readFileSync(new URL(dir + file, import.meta.url), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`Lua script ${file} not found next to ${import.meta.url} or in src/queue/lua; ship src/queue/lua with the build`);
}

let loaded: Array<[ScriptName, { lua: string; numberOfKeys: number }]> | undefined;

function scripts(): Array<[ScriptName, { lua: string; numberOfKeys: number }]> {
  loaded ??= (Object.entries(FILES) as Array<[ScriptName, string]>).map(([name, file]) => [
    name,
    { lua: readScript(file), numberOfKeys: Number(/-(\d+)\.lua$/.exec(file)![1]) },
  ]);
  return loaded;
}

/** Registers every script as an ioredis command (EVALSHA, falling back to EVAL on NOSCRIPT). */
export function defineScripts(redis: Redis): void {
  for (const [name, definition] of scripts()) redis.defineCommand(name, definition);
}

/** Keys first, then arguments, as the script's header lists them. */
export function runScript(redis: Redis, name: ScriptName, ...args: ScriptArg[]): Promise<unknown> {
  return (redis as unknown as Record<ScriptName, Runner>)[name](...args);
}

/** Queues a script call on a pipeline or MULTI. */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, ...args: ScriptArg[]): void {
  (pipeline as unknown as Record<ScriptName, Runner>)[name](...args);
}
