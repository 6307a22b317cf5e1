#!/usr/bin/env node
/**
 * The `fleetscale` command line. Every expected failure comes out as one line on stderr and a
 * non-zero exit code (2: a mistake on the command line; 1: anything else); `--debug` adds the
 * stack trace.
 */
import { readFileSync } from 'node:fs';

import { demoCommand, demoUsage } from './demo.js';
import { describeFailure } from './failure.js';
import { fleetCommand, fleetUsage } from './fleet.js';
import { fuseCommand, fuseUsage } from './fuse.js';
import { generateCommand, generateUsage } from './generate.js';
import { hubCommand, hubUsage } from './hub.js';
import { routeCommand, routeUsage } from './route.js';
import { tokenCommand, tokenUsage } from './token.js';

type Command = { summary: string; example: string; usage: string | ((argv: string[]) => Promise<string>); run: (argv: string[]) => Promise<void> };

/** The lab's commands load only when asked for: the product never imports the lab otherwise. */
const lab = () => import('../lab/cli/index.js');

const commands: Record<string, Command> = {
  demo: { summary: 'start a hub and run a simulated fleet through it', example: 'fleetscale demo --once', usage: demoUsage, run: demoCommand },
  hub: { summary: 'serve the round protocol, the dashboard and /metrics', example: 'fleetscale hub --port 8080 --data ./fleetscale-data', usage: hubUsage, run: hubCommand },
  fleet: {
    summary: 'drive a running hub with simulated nodes over HTTP',
    example: 'fleetscale fleet --hub http://127.0.0.1:8080 --nodes 500',
    usage: fleetUsage,
    run: fleetCommand,
  },
  token: { summary: "print a node's bearer token (admin: the admin's)", example: 'fleetscale token node-7 --data ./fleetscale-data', usage: tokenUsage, run: tokenCommand },
  generate: {
    summary: "write a generated fleet's records as JSONL",
    example: 'fleetscale generate --nodes 100 --obs-per-node 5 --seed 1 --out fleet.jsonl',
    usage: generateUsage,
    run: generateCommand,
  },
  fuse: { summary: 'fuse JSONL records into events', example: 'fleetscale fuse fleet.jsonl --out events.jsonl', usage: fuseUsage, run: fuseCommand },
  route: { summary: 'plan a batch over fast and slow nodes', example: 'fleetscale route --nodes gpu=100ms,cpu1=1s,cpu2=1s', usage: routeUsage, run: routeCommand },
  lab: {
    summary: 'measure and model: claims harness and validation, comparisons, replays',
    example: 'fleetscale lab --help',
    usage: async (argv) => (await lab()).labUsageOf(argv),
    run: async (argv) => (await lab()).labCommand(argv),
  },
};

const help = `fleetscale: run a hub and its fleet at scale

usage: fleetscale <command> [options]   (fleetscale <command> --help for the details)

${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}\n  ${''.padEnd(9)} e.g. ${c.example}`)
  .join('\n')}

  --debug   show the stack trace of a failure     --version   print the version
`;

async function usageOf(command: Command, argv: string[]): Promise<string> {
  return typeof command.usage === 'string' ? command.usage : command.usage(argv);
}

async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
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
    process.stderr.write(`fleetscale: unknown command "${name}"; the commands are ${Object.keys(commands).join(', ')} (fleetscale --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${await usageOf(command, rest)}\n`);
    return 0;
  }
  try {
    await command.run(rest);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const label = name === 'lab' && rest[0] !== undefined && !rest[0].startsWith('-') ? `lab ${rest[0]}` : name;
    const { line, exitCode } = describeFailure(error, label);
    process.stderr.write(`fleetscale ${label}: ${line}\n`);
    if (debug && error instanceof Error) process.stderr.write(`${error.stack ?? error.message}\n`);
    return exitCode;
  }
}

// A failure outside the awaited chain (a socket error after start-up) still gets one line.
process.on('uncaughtException', (error) => {
  const { line, exitCode } = describeFailure(error, process.argv[2] ?? '');
  process.stderr.write(`fleetscale: ${line}\n`);
  if (process.argv.includes('--debug')) process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(exitCode);
});

process.exitCode = await main(process.argv.slice(2));
