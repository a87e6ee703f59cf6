/**
 * Tokens on the command line: the relay's auth flags turned into {@link JwtAuthOptions} (secrets
 * and keys read from files, so they stay out of `ps` and shell history), and the
 * `syncdoc-relay token` subcommand that mints a development token. No message ever quotes a
 * secret or a token; only the token subcommand prints a token, on stdout.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mintToken, parseGrants } from './auth/mint.js';
import { type JwtAuthOptions, createVerifier } from './auth/verify.js';

/** A fault in how the CLI was called: printed as is (never with a secret), exit `code`. */
export class CliError extends Error {
  /** Exit status: 2 for a usage or configuration fault. */
  readonly code: number;
  constructor(message: string, code = 2) {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}

/** The env var that may hold the HS256 secret itself (for the relay and for `token`). */
export const SECRET_ENV = 'SYNCDOC_AUTH_SECRET';

/** The relay's auth flags, as parsed. */
export interface AuthFlags {
  'auth-secret-file'?: string | undefined;
  'auth-public-key-file'?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** What the relay verifies tokens with, and a line saying so at start-up (no secret in it). */
export interface RelayAuth {
  auth: JwtAuthOptions;
  description: string;
}

/** The text of `file`, or a {@link CliError} naming `flag` and the file (never the contents). */
function readKeyFile(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${flag}: cannot read ${file}${code ? ` (${code})` : ''}`);
  }
  // Trailing whitespace is the newline `echo` and editors add, never part of the key.
  const trimmed = text.trimEnd();
  if (!trimmed) throw new CliError(`${flag}: ${file} is empty`);
  return trimmed;
}

/**
 * The HS256 secret from `file` (`flag` names it in errors), else from {@link SECRET_ENV};
 * undefined when neither is given.
 */
function secretFrom(file: string | undefined, flag: string, env: NodeJS.ProcessEnv): { secret: string; source: string } | undefined {
  if (file !== undefined) return { secret: readKeyFile(file, flag), source: file };
  const fromEnv = envSecret(env);
  return fromEnv ? { secret: fromEnv, source: SECRET_ENV } : undefined;
}

/** {@link SECRET_ENV}'s secret; undefined when unset or blank. */
function envSecret(env: NodeJS.ProcessEnv): string | undefined {
  return env[SECRET_ENV]?.trimEnd() || undefined;
}

/**
 * Builds a verifier once, so a key that cannot work (a short secret, a malformed key) stops the
 * CLI before it connects to anything; `what` names the key's source in the message.
 */
function checkUsable(auth: JwtAuthOptions, what: string): void {
  try {
    createVerifier(auth, () => {});
  } catch (err) {
    throw new CliError(`${what} cannot be used: ${(err as Error).message}`);
  }
}

/**
 * The relay's auth from its flags and `env`: undefined when none is configured. Throws a
 * {@link CliError} when both a secret and a public key are given, when `--issuer` or
 * `--audience` come without a key, or when a file cannot be read or its key cannot be used.
 */
export function relayAuthFrom(flags: AuthFlags, env: NodeJS.ProcessEnv): RelayAuth | undefined {
  const secretFile = flags['auth-secret-file'];
  const keyFile = flags['auth-public-key-file'];
  if (secretFile !== undefined && keyFile !== undefined) {
    throw new CliError('give --auth-secret-file (HS256) or --auth-public-key-file (RS256, ES256, EdDSA), not both');
  }
  if (keyFile !== undefined && envSecret(env)) {
    throw new CliError(`${SECRET_ENV} is set and --auth-public-key-file is given: use one of them (unset ${SECRET_ENV})`);
  }
  const claims = {
    ...(flags.issuer !== undefined && { issuer: flags.issuer }),
    ...(flags.audience !== undefined && { audience: flags.audience }),
  };
  const key = keyFile !== undefined ? { publicKey: readKeyFile(keyFile, '--auth-public-key-file') } : undefined;
  const found = key ? undefined : secretFrom(secretFile, '--auth-secret-file', env);
  if (!key && !found) {
    if (flags.issuer !== undefined || flags.audience !== undefined) {
      throw new CliError(`--issuer and --audience need a key to check tokens with: --auth-secret-file, --auth-public-key-file or ${SECRET_ENV}`);
    }
    return undefined;
  }
  const auth: JwtAuthOptions = { ...(key ?? { secret: found!.secret }), ...claims };
  checkUsable(auth, key ? `the public key in ${keyFile}` : `the secret in ${found!.source}`);
  const checks = [claims.issuer !== undefined && `"iss" ${claims.issuer}`, claims.audience !== undefined && `"aud" ${claims.audience}`];
  const requiring = checks.some(Boolean) ? `, requiring ${checks.filter(Boolean).join(' and ')}` : '';
  const how = key ? `tokens verified with the public key in ${keyFile}` : `HS256 tokens, secret from ${found!.source}`;
  return { auth, description: `auth: ${how}${requiring}` };
}

/** `syncdoc-relay token --help`. */
export const TOKEN_HELP = `syncdoc-relay token: print a token (an HS256 JWT) that a relay with the same secret accepts

Usage: syncdoc-relay token --sub USER --grant SCOPE:RIGHTS [--grant ...] [options]
  e.g. TOKEN=$(syncdoc-relay token --secret-file secret.txt --sub alice --grant 'session:read,write')

Options:
  --secret-file F  file holding the HS256 secret, the relay's --auth-secret-file (trailing
                   whitespace ignored); without it, env ${SECRET_ENV} holds the secret itself
  --sub USER       the user (claim "sub"); required
  --grant G        scope:rights; repeat for several scopes; at least one required.
                   Scope: * (every document), a service (session) or one document (order/o1).
                   Rights: read, write, presence, comma-separated (session:read,write)
  --ttl SECONDS    lifetime (claim "exp"); default 3600
  --issuer I       claim "iss", for a relay started with --issuer I
  --audience A     claim "aud", for a relay started with --audience A
  -h, --help       show this help

Prints the token and a newline on stdout, nothing else. For development and tests: in
production your own backend signs the tokens (see the README).`;

/** `syncdoc-relay token ...`: prints a token on stdout; returns the exit status. */
export async function runToken(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'secret-file': { type: 'string' },
        sub: { type: 'string' },
        grant: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${TOKEN_HELP}`);
  }
  if (values.help) {
    console.log(TOKEN_HELP);
    return 0;
  }
  if (!values.sub) throw new CliError('--sub USER is required (the user the token is for)');
  if (!values.grant?.length) throw new CliError("at least one --grant is required, e.g. --grant 'session:read,write'");
  let grants;
  try {
    grants = parseGrants(values.grant);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const ttlText = values.ttl ?? '3600';
  if (!/^\d+$/.test(ttlText) || Number(ttlText) < 1) throw new CliError(`--ttl must be a whole number of seconds, at least 1; got ${ttlText}`);
  const found = secretFrom(values['secret-file'], '--secret-file', env);
  if (!found) throw new CliError(`no secret: give --secret-file F or set ${SECRET_ENV}`);
  checkUsable({ secret: found.secret }, `the secret in ${found.source}`);
  const token = await mintToken({
    secret: found.secret,
    sub: values.sub,
    grants,
    ttlSeconds: Number(ttlText),
    ...(values.issuer !== undefined && { issuer: values.issuer }),
    ...(values.audience !== undefined && { audience: values.audience }),
  });
  // Resolve once written: the caller exits right after, and a pipe may not be flushed yet.
  await new Promise<void>((resolve, reject) => process.stdout.write(`${token}\n`, (err) => (err ? reject(err) : resolve())));
  return 0;
}
