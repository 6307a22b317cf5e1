// Writes docs/errors.md from the codes in ts/src/errors.ts (the built copy in dist/) and the
// hub's HTTP statuses. With --stdout it prints the page instead: the test suite compares that
// with docs/errors.md.
import { writeFileSync } from 'node:fs';

import { ERROR_CODES } from '../dist/src/errors.js';
import { hubErrors } from '../dist/src/hub/errors.js';

/** The page: what a FleetscaleError carries, then every code with its HTTP status and meaning. */
export function errorsPage() {
  const rows = Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${code in hubErrors ? hubErrors[code] : '—'} | ${meaning.replaceAll('|', '\\|')} |`);
  return `# Error codes

Everything fleetscale throws is a \`FleetscaleError\`:

- \`code\`: one of the codes below, stable across releases; branch on it, never on the message;
- \`message\`: what happened and what to change, for people (it may be reworded);
- \`cause\`: the lower-level error that explains it, when there is one (a socket or database error);
- \`details\`: data a caller can act on, where a code documents some (\`ERR_ROUTER_EXHAUSTED\`:
  \`{ failedItems, partialResults }\`).

\`isFleetscaleError(error, ...codes)\` tells one apart, also across two copies of the package.
The hub answers HTTP requests with \`{ error: { code, message } }\` and the status in the second
column. The command line prints \`CODE: message\` on one line and exits 1 (2 for a mistake on the
command line itself).

| code | HTTP | meaning |
|---|---:|---|
${rows.join('\n')}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--stdout')) process.stdout.write(errorsPage());
  else writeFileSync('docs/errors.md', errorsPage());
}
