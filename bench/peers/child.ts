/**
 * Child processes of the peer comparisons (11 sharedb, 12 hocuspocus): every server under test,
 * and the watchers, run as a TypeScript file under tsx in a process of its own, spoken to over
 * IPC. `startChild` is the parent's side, `serveChild` the child's.
 *
 * With BENCH_CPU_PROF=DIR, the children (servers and watchers) run with `node --cpu-prof` and
 * write their profiles into DIR/<name>-<time>/ when they are stopped, one per thread: the main
 * thread's is the large one (open it in Chrome DevTools or speedscope).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** A running child, ready. */
export interface Child {
  readonly pid: number;
  /** What the child sent with `ready` (e.g. its URL). */
  readonly info: Record<string, unknown>;
  /** Sends a request and resolves with the child's answer. */
  request<T>(body: Record<string, unknown>): Promise<T>;
  /** CPU seconds (user + system) the child has used so far; NaN where /proc is missing. */
  cpuSeconds(): number;
  /** Asks the child to close and exit (so a CPU profile gets written); kills it after 10 s. */
  stop(): Promise<void>;
}

interface Reply {
  type: 'ready' | 'reply' | 'failed';
  id?: number;
  body?: unknown;
  error?: string;
}

/**
 * Starts `bench/peers/<file>` with `args` and `env` added to this process's environment, and
 * waits for its `ready` message. `profile` names the CPU profile when BENCH_CPU_PROF is set.
 */
export async function startChild(
  file: string,
  opts: { args?: string[]; env?: Record<string, string>; profile?: string } = {},
): Promise<Child> {
  const execArgv = ['--import', 'tsx'];
  const profDir = process.env.BENCH_CPU_PROF;
  // A directory per child: node writes one profile per thread (tsx's loader has one of its own).
  if (profDir && opts.profile) execArgv.push('--cpu-prof', '--cpu-prof-dir', join(profDir, `${opts.profile}-${Date.now()}`));
  const child: ChildProcess = fork(fileURLToPath(new URL(`./${file}`, import.meta.url)), opts.args ?? [], {
    cwd: ROOT,
    execArgv,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${file} exited (${signal ?? `code ${code}`})`)));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ready: (info: Record<string, unknown>) => void = () => {};
  let failed: (err: Error) => void = () => {};
  const started = new Promise<Record<string, unknown>>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  child.on('message', (m: Reply) => {
    if (m.type === 'ready') ready((m.body ?? {}) as Record<string, unknown>);
    else if (m.type === 'failed' && m.id === undefined) failed(new Error(`${file}: ${m.error}`));
    else if (m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.type === 'reply') p?.resolve(m.body);
      else p?.reject(new Error(`${file}: ${m.error}`));
    }
  });
  void exited.then((why) => {
    failed(new Error(why));
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  });
  const info = await started.catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  return {
    pid,
    info,
    request<T>(body: Record<string, unknown>): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: 'request', id, body });
      });
    },
    cpuSeconds: () => cpuSecondsOf(pid),
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.send({ type: 'stop' });
        const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(hard);
      })()),
  };
}

/** CPU seconds used by a process so far (utime + stime of /proc/<pid>/stat). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds all CPUs of the machine have been busy so far (/proc/stat); NaN where it is missing. */
export function machineCpuSeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = ticks.map(Number);
    const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
    return (n.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** What a child serves: its `ready` info, how to answer requests, how to close. */
export interface Served {
  info: Record<string, unknown>;
  handle?: (body: Record<string, unknown>) => Promise<unknown> | unknown;
  close: () => Promise<void>;
}

/**
 * The child's side: runs `start`, sends `ready` with its info, answers requests, and on `stop`
 * (or when the parent goes away) closes and exits with code 0.
 */
export function serveChild(start: () => Promise<Served>): void {
  const send = (m: Reply) => process.send?.(m);
  let served: Served | undefined;
  let closing = false;
  const exit = async () => {
    if (closing) return;
    closing = true;
    const hard = setTimeout(() => process.exit(0), 5000);
    hard.unref();
    await served?.close().catch(() => {});
    process.exit(0);
  };
  process.on('message', (m: { type: string; id?: number; body?: Record<string, unknown> }) => {
    if (m.type === 'stop') {
      void exit();
      return;
    }
    if (m.type !== 'request' || !served) return;
    Promise.resolve()
      .then(() => served!.handle?.(m.body ?? {}))
      .then(
        (body) => send({ type: 'reply', id: m.id!, body }),
        (err: unknown) => send({ type: 'failed', id: m.id!, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => void exit());
  start().then(
    (s) => {
      served = s;
      send({ type: 'ready', body: s.info });
    },
    (err: unknown) => {
      send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
}
