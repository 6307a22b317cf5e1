#!/usr/bin/env node
/** The `fleetscale` command line. */
import { readFileSync } from 'node:fs';

import { isFusionError } from '../fusion/errors.js';
import { UsageError } from './args.js';
import { autoscaleCommand, autoscaleUsage } from './autoscale.js';
import { claimsCommand, claimsUsage } from './claims.js';
import { compareCommand, compareUsage } from './compare.js';
import { demoCommand, demoUsage } from './demo.js';
import { fleetCommand, fleetUsage } from './fleet.js';
import { fuseCommand, fuseUsage } from './fuse.js';
import { generateCommand, generateUsage } from './generate.js';
import { hubCommand, hubUsage } from './hub.js';
import { routeCommand, routeUsage } from './route.js';
import { tokenCommand, tokenUsage } from './token.js';
import { isHubError } from '../hub/errors.js';
import { isClaimsError } from '../claims/errors.js';
import { isRouterError } from '../router/errors.js';
import { isAutoscaleError } from '../autoscale/errors.js';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; usage: string }> = {
  demo: { run: demoCommand, usage: demoUsage },
  hub: { run: hubCommand, usage: hubUsage },
  fleet: { run: fleetCommand, usage: fleetUsage },
  token: { run: tokenCommand, usage: tokenUsage },
  generate: { run: generateCommand, usage: generateUsage },
  fuse: { run: fuseCommand, usage: fuseUsage },
  compare: { run: compareCommand, usage: compareUsage },
  claims: { run: claimsCommand, usage: claimsUsage },
  route: { run: routeCommand, usage: routeUsage },
  autoscale: { run: autoscaleCommand, usage: autoscaleUsage },
};

const help = `fleetscale — run a hub and its fleet at scale

usage: fleetscale <command> [options]

${Object.values(commands)
  .map((c) => c.usage)
  .join('\n\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`fleetscale: unknown command "${name}"\n\n${help}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`fleetscale ${name}: ${e.message}\n${command.usage}\n`);
      return 2;
    }
    if (isFusionError(e) || isHubError(e) || isClaimsError(e) || isRouterError(e) || isAutoscaleError(e)) {
      process.stderr.write(`fleetscale ${name}: ${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
