/** `fleetscale lab …`: the command line of the lab, grouped by the capability each part measures. */
import { UsageError } from '../../cli/args.js';
import { autoscaleCommand, autoscaleUsage } from './autoscale-replay.js';
import { claimsCommand, claimsUsage } from './claims.js';
import { compareCommand, compareUsage } from './fusion-compare.js';
import { routerCompareCommand, routerCompareUsage } from './router-compare.js';

type LabArea = { summary: string; subcommands: string[]; run: (argv: string[]) => Promise<void>; usage: string };

/** The lab's areas and what each does. */
const areas: Record<string, LabArea> = {
  claims: {
    summary: 'run the claims queue with N worker processes, sweep settings, probe this host, validate the model',
    subcommands: ['run', 'sweep', 'validate', 'probe'],
    run: claimsCommand,
    usage: claimsUsage,
  },
  fusion: {
    summary: 'fuse a generated fleet with the global index and the legacy per-node-pair loop',
    subcommands: ['compare'],
    run: (argv) => subcommand('fusion', argv, { compare: compareCommand }),
    usage: compareUsage,
  },
  router: {
    summary: "the router's plans beside FlockParser's rule table, simulated",
    subcommands: ['compare'],
    run: (argv) => subcommand('router', argv, { compare: routerCompareCommand }),
    usage: routerCompareUsage,
  },
  autoscale: {
    summary: 'replay a load trace or recorded samples through the autoscaler presets',
    subcommands: ['replay'],
    run: autoscaleCommand,
    usage: autoscaleUsage,
  },
};

function subcommand(area: string, argv: string[], table: Record<string, (argv: string[]) => Promise<void>>): Promise<void> {
  const [name, ...rest] = argv;
  const run = name === undefined ? undefined : table[name];
  if (!run) throw new UsageError(`${name === undefined ? 'name a subcommand' : `unknown subcommand "${name}"`}: fleetscale lab ${area} ${Object.keys(table).join(' | ')}`);
  return run(rest);
}

/** The lab's short help: one line per area. */
export const labUsage = `fleetscale lab <area> <subcommand> [options]   (fleetscale lab <area> --help for details)
  Measures and models fleetscale rather than runs it.
${Object.entries(areas)
  .map(([name, a]) => `  ${`${name} ${a.subcommands.join('|')}`.padEnd(34)} ${a.summary}`)
  .join('\n')}
  example: fleetscale lab claims run --pg postgres://postgres@127.0.0.1:5432/test --workers 2 --jobs 20000`;

/** The usage of one area, or of the lab. */
export function labUsageOf(argv: string[]): string {
  const area = argv[0] === undefined ? undefined : areas[argv[0]];
  return area ? area.usage : labUsage;
}

/** Runs `fleetscale lab <area> …`. */
export function labCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const area = name === undefined ? undefined : areas[name];
  if (!area) throw new UsageError(name === undefined ? `name an area: ${Object.keys(areas).join(', ')}` : `unknown lab area "${name}" (${Object.keys(areas).join(', ')})`);
  return area.run(rest);
}
