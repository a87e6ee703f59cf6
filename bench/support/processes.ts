/**
 * Child processes for benchmarks: servers and load run in their own Node processes (tsx, with
 * IPC), so the process under test does not share its event loop with the load.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A child process speaking JSON messages over IPC. */
export interface Child {
  process: ChildProcess;
  /** Sends a message and resolves with the first reply of the given type. */
  ask<T = Record<string, unknown>>(message: Record<string, unknown>, replyType: string): Promise<T>;
  /** Resolves with the next message of the given type. */
  next<T = Record<string, unknown>>(type: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Forks `bench/<file>` (TypeScript, through tsx) with `env`, and waits for its `ready` message.
 * With `BENCH_CPU_PROF=<dir>` set, every child writes a V8 CPU profile into `<dir>` when it exits
 * (`npx tsx bench/profile-summary.ts <file>` sums one up).
 */
export async function start(file: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<Child & { ready: Record<string, unknown> }> {
  const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
  const child = fork(path, [], {
    env: { ...process.env, ...env },
    execArgv: ['--import', 'tsx', ...profiling(), ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: Array<{ type: string; resolve: (m: Record<string, unknown>) => void }> = [];
  child.on('message', (raw) => {
    const m = raw as Record<string, unknown>;
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      waiters.push({ type, resolve: resolve as (m: Record<string, unknown>) => void });
      void exited.then(() => reject(new Error(`${file} exited while waiting for ${type}`)));
    });
  const self: Child = {
    process: child,
    next,
    ask: <T>(message: Record<string, unknown>, replyType: string) => {
      const reply = next<T>(replyType);
      child.send(message);
      return reply;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  const ready = await next<Record<string, unknown>>('ready');
  return { ...self, ready };
}

function profiling(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** In a child: sends a message to the parent. */
export function tell(message: Record<string, unknown>): void {
  process.send?.(message);
}

/** In a child: handles messages from the parent. */
export function onAsk(handler: (m: Record<string, unknown>) => void | Promise<void>): void {
  process.on('message', (m) => void handler(m as Record<string, unknown>));
}
