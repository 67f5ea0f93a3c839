/**
 * A real redis-server for tests: Debian's package, on a free loopback port, in a fresh temporary
 * directory, never a Redis the machine happens to run. Without the binary the tests that need it
 * are skipped with a warning, except under CI, where that fails the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as written } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { freePort } from './ports.ts';

const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

export const redisPresent = existsSync(REDIS_SERVER);

if (!redisPresent && ['1', 'true'].includes((process.env.CI ?? '').toLowerCase())) {
  throw new Error(`redis-server not found at ${REDIS_SERVER}: CI must install it (apt-get install redis-server).`);
}
if (!redisPresent) {
  console.warn(
    `\n  Redis tests skipped: no redis-server at ${REDIS_SERVER}. Install it with "apt-get install redis-server" or set REDIS_SERVER_PATH.\n`,
  );
}

export interface RedisServer {
  url: string;
  /** SIGKILL: gone at once, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM: Redis flushes its append-only file and exits. */
  stop(): Promise<void>;
  /** Starts again on the same port and directory (the AOF, when on, is read back). */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
  /**
   * Runs one command on a connection of its own and resolves with the reply: `CLIENT PAUSE`, or
   * `DEBUG SLEEP` (with `debug`), which resolves when Redis wakes. The command is on its way to
   * Redis when this returns, so anything the caller sends afterwards meets it.
   */
  command(...args: string[]): Promise<{ reply: Promise<unknown> }>;
}

/** `debug`: allow DEBUG commands (DEBUG SLEEP), which Redis 7 refuses by default. */
export async function startRedis(options: { appendOnly?: boolean; debug?: boolean } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hstock-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--logfile',
    '',
  ];
  if (options.debug) args.push('--enable-debug-command', 'yes');
  const start = async () => {
    const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      started.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
  };
  const exit = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    kill: () => exit('SIGKILL'),
    stop: () => exit('SIGTERM'),
    start,
    async close() {
      await exit('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    async command(...command) {
      const client = createClient({ url });
      await client.connect();
      const reply = client.sendCommand(command).finally(() => client.destroy());
      await written(); // node-redis writes its queue on the next turn of the event loop
      return { reply };
    },
  };
}
