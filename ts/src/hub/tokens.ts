/**
 * Per-node bearer tokens: a node's token is the hex HMAC-SHA256 of its id under the hub
 * secret. The secret comes from `FLEETSCALE_SECRET` or is generated into the data directory on
 * first start; the admin token is the token of the reserved id `admin`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { HubError } from './errors.js';

/** The node id whose token is the admin's (closing rounds, stateless fusion). */
export const ADMIN_NODE = 'admin';
const SECRET_FILE = 'secret';

/** The token of `nodeId` under `secret`. */
export function nodeToken(secret: string, nodeId: string): string {
  return createHmac('sha256', secret).update(nodeId).digest('hex');
}

/**
 * The hub secret: `FLEETSCALE_SECRET` when set, else the one in `dataDir/secret`, created
 * (32 random bytes, mode 0600) when missing, unless `create: false` (clients only read it).
 */
export function loadSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env, opts: { create?: boolean } = {}): string {
  const fromEnv = env.FLEETSCALE_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const path = join(dataDir, SECRET_FILE);
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (stored !== '') return stored;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (opts.create === false) {
    throw new HubError('ERR_UNAUTHORIZED', `no hub secret: set FLEETSCALE_SECRET or point --data at the hub's data directory (${path} is missing)`);
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  // 'wx' fails if another process created it meanwhile; then that one is the secret.
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw e;
  }
}

const TOKEN_PATTERN = /^[0-9a-f]{64}$/;
/** How many token → node identities are remembered, to tell "another node's token" (403). */
const KNOWN_TOKENS = 100_000;

/** Checks bearer tokens against the node a request claims to be. */
export class TokenChecker {
  private readonly adminToken: Buffer;
  /** Tokens seen valid, by token, naming their node (bounded; oldest forgotten first). */
  private readonly known = new Map<string, string>();

  /**
   * `lookupOwner` names the node of a valid token this checker has not seen (a hub worker asks
   * the process that saw the announces), so that another node's token is a 403 in every
   * process, not only in the one that saw it before.
   */
  constructor(
    private readonly secret: string,
    private readonly lookupOwner?: (token: string) => Promise<string | undefined>,
  ) {
    this.adminToken = Buffer.from(nodeToken(secret, ADMIN_NODE), 'hex');
  }

  /** Remembers `node`'s token (at its announce), so `ownerOf` can name it. */
  learn(node: string): void {
    const token = nodeToken(this.secret, node);
    if (!this.known.has(token)) this.remember(token, node);
  }

  /** The node of a token seen before, if any. */
  ownerOf(token: string): string | undefined {
    return this.known.get(token);
  }

  /** 401 for a token of no node known; 403 when `lookupOwner` knows whose it is. */
  private unknown(token: string, unauthorized: string, forbidden: (owner: string) => string): Promise<never> | never {
    if (!this.lookupOwner) throw new HubError('ERR_UNAUTHORIZED', unauthorized);
    return this.lookupOwner(token).then((owner) => {
      if (owner === undefined) throw new HubError('ERR_UNAUTHORIZED', unauthorized);
      this.remember(token, owner);
      throw new HubError('ERR_FORBIDDEN_NODE', forbidden(owner));
    });
  }

  /** The token in an `Authorization: Bearer <hex>` header, or a 401. */
  bearer(header: string | undefined): string {
    if (header === undefined || header === '') throw new HubError('ERR_UNAUTHORIZED', 'missing Authorization: Bearer <token> header');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new HubError('ERR_UNAUTHORIZED', 'Authorization header must be "Bearer <token>"');
    const token = match[1].toLowerCase();
    if (!TOKEN_PATTERN.test(token)) throw new HubError('ERR_UNAUTHORIZED', 'token must be 64 hex digits (HMAC-SHA256 of the node id)');
    return token;
  }

  private matches(token: string, expected: Buffer): boolean {
    return timingSafeEqual(Buffer.from(token, 'hex'), expected);
  }

  /** Whether the header carries the admin token; throws 401 for a malformed one. */
  isAdmin(header: string | undefined): boolean {
    return this.matches(this.bearer(header), this.adminToken);
  }

  /** Requires the admin token: 401 without a valid token, 403 with a node's token. */
  requireAdmin(header: string | undefined): void | Promise<void> {
    const token = this.bearer(header);
    if (this.matches(token, this.adminToken)) return;
    const forbidden = (owner: string) => `node "${owner}" may not use an admin route`;
    const owner = this.known.get(token);
    if (owner !== undefined) throw new HubError('ERR_FORBIDDEN_NODE', forbidden(owner));
    return this.unknown(token, 'invalid token for an admin route', forbidden);
  }

  /**
   * Requires the token of `node`: 401 without a valid token, 403 with the token of another
   * node (one the hub has seen) or the admin's (admin does not post observations).
   */
  requireNode(header: string | undefined, node: string): void | Promise<void> {
    const token = this.bearer(header);
    const forbidden = (owner: string) => `the token of node "${owner}" may not post as "${node}"`;
    const owner = this.known.get(token);
    if (owner === node) return;
    if (owner !== undefined) throw new HubError('ERR_FORBIDDEN_NODE', forbidden(owner));
    if (this.matches(token, Buffer.from(nodeToken(this.secret, node), 'hex'))) {
      this.remember(token, node);
      return;
    }
    if (this.matches(token, this.adminToken)) throw new HubError('ERR_FORBIDDEN_NODE', `the admin token may not post as node "${node}"`);
    return this.unknown(token, `invalid token for node "${node}"`, forbidden);
  }

  private remember(token: string, node: string): void {
    if (this.known.size >= KNOWN_TOKENS) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.set(token, node);
  }
}
