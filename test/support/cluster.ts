/**
 * Gateway processes for tests of several instances: each runs `src/main.ts` on a free port,
 * against a sandbox and a Redis the test started, and can be stopped (SIGTERM) or killed (-9).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface Instance {
  url: string;
  child: ChildProcess;
  /** Prometheus samples of one metric, summed. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', READY_PROBE_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const started = /"msg":"gateway started"/.test(output) && /"url":"([^"]+)"/.exec(output);
      if (started) resolve(started[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before it started: ${output}`)));
  });
  const exit = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    url,
    child,
    async metric(name) {
      const text = await (await fetch(new URL('/metrics', url))).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    },
    stop: () => exit('SIGTERM'),
    kill: () => exit('SIGKILL'),
  };
}
