/**
 * Tokens for development and tests: HS256 JWTs signed with the relay's secret, as
 * `syncdoc-relay token` and `npm start` make them. Production tokens come from the
 * application's own backend (the README shows the few lines of `jose` it takes).
 */
import { SignJWT } from 'jose';
import { type Grants, type Right, checkGrants } from './principal.js';

/** What goes into a minted token. */
export interface MintOptions {
  /** The HS256 secret the relay verifies with. */
  secret: string;
  /** The user (`sub`). */
  sub: string;
  /** The rights (`grants`). */
  grants: Grants;
  /** Lifetime in seconds (`exp` = now + ttl). Default 3600. */
  ttlSeconds?: number;
  /** `iss`, when the relay checks one. */
  issuer?: string;
  /** `aud`, when the relay checks one. */
  audience?: string;
}

/** Signs a token the relay accepts. */
export async function mintToken(options: MintOptions): Promise<string> {
  const ttl = options.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`ttl must be a whole number of seconds, at least 1; got ${ttl}`);
  const jwt = new SignJWT({ grants: checkGrants(options.grants) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  // As a JWK, not bytes: accepted whatever realm the caller's Uint8Array comes from (jsdom tests).
  return jwt.sign({ kty: 'oct', k: Buffer.from(options.secret).toString('base64url') });
}

/**
 * Parses grant arguments of the form `scope:right,right` (`session:read,write`,
 * `order/o1:read`, `*:read`) into grants; rights of one scope given twice are joined.
 */
export function parseGrants(args: readonly string[]): Grants {
  const byScope = new Map<string, Right[]>();
  for (const arg of args) {
    const colon = arg.lastIndexOf(':');
    if (colon <= 0) throw new Error(`a grant looks like scope:rights (e.g. session:read,write), got ${JSON.stringify(arg)}`);
    const scope = arg.slice(0, colon);
    const rights = arg.slice(colon + 1).split(',').map((r) => r.trim()).filter(Boolean) as Right[];
    byScope.set(scope, [...(byScope.get(scope) ?? []), ...rights]);
  }
  try {
    return checkGrants(Object.fromEntries(byScope));
  } catch (err) {
    throw new Error((err as Error).message.replace("the token's grants are malformed", 'bad grant'), { cause: err });
  }
}
