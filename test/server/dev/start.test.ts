/**
 * `npm start` as a user runs it: Redis with RedisJSON, the relay (with token auth), the dev
 * token endpoint and Storybook come up, their URLs are printed and answer, the endpoint's
 * tokens open connections that tokenless ones cannot, and Ctrl-C (SIGINT) stops all of them.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, eventually, opened } from '../../helpers/relay.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('npm start', () => {
  it('starts Redis, the relay with auth, the token endpoint and Storybook, prints the URLs, and stops all on SIGINT', async () => {
    const [relayPort, tokenPort, storybookPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/dev/start.ts'], {
      env: { ...process.env, REDIS_URL: undefined, PORT: String(relayPort), TOKEN_PORT: String(tokenPort), STORYBOOK_PORT: String(storybookPort) },
      detached: true, // its own process group, like a terminal's: SIGINT reaches Storybook too
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually(() => out.includes('syncdoc demos'), 90_000, 'the URLs to be printed');
      expect(out).toContain(`syncdoc demos   http://localhost:${storybookPort}`);
      const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      expect(redisPort).toBeGreaterThan(0);
      const health = (await (await fetch(`http://127.0.0.1:${relayPort}/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ ok: true, store: 'redis', durable: true });
      expect((await fetch(`http://127.0.0.1:${storybookPort}/`)).status).toBe(200);

      const tokenUrl = `http://127.0.0.1:${tokenPort}/token`;
      expect(out).toContain(`syncdoc tokens  ${tokenUrl}   (dev-only endpoint`);
      const relayUrl = `http://127.0.0.1:${relayPort}`;
      const { token } = (await (await fetch(`${tokenUrl}?user=alice&grant=session:read,write`)).json()) as { token: string };
      const client = await opened(connect({ url: relayUrl }, { token }));
      expect(client.identity?.user).toBe('alice');
      await client.close();
      const anonymous = connect({ url: relayUrl });
      await eventually(() => anonymous.connectionError !== undefined, 5000, 'the tokenless connection to be refused');
      expect(anonymous.connectionError?.code).toBe('unauthorized');

      process.kill(-child.pid!, 'SIGINT');
      await exited;
      for (const port of [relayPort, tokenPort, storybookPort, redisPort]) {
        expect(await answers(port), `port ${port} still answers after Ctrl-C`).toBe(false);
      }
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 120_000);
});
