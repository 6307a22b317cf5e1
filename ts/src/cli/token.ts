/** `fleetscale token <nodeId>`: prints a node's bearer token. */
import { loadSecret, nodeToken } from '../hub/tokens.js';
import { parseArgs, UsageError } from './args.js';

export const tokenUsage = `fleetscale token <nodeId> [--data ./fleetscale-data]
  Prints the node's bearer token: hex HMAC-SHA256 of its id under the hub secret
  (FLEETSCALE_SECRET, or the secret in the data directory). The id "admin" gives the admin token.`;

export async function tokenCommand(argv: string[]): Promise<void> {
  const args = parseArgs(argv, [], ['data']);
  if (args.positionals.length !== 1) throw new UsageError('give exactly one node id');
  const secret = loadSecret(String(args.options.get('data') ?? './fleetscale-data'), process.env, { create: false });
  process.stdout.write(`${nodeToken(secret, args.positionals[0])}\n`);
}
