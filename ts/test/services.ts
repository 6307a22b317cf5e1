/**
 * What a suite does when a server or program it needs is not there. With CI=true an absent
 * service fails the run, unless FLEETSCALE_SKIP_SERVICES names it (a comma-separated list: the
 * GitHub jobs on runners without service containers say `postgres,chromium`); elsewhere the
 * suite skips with a printed reason.
 */
export type Service = 'postgres' | 'chromium';

export function serviceAvailable(service: Service, available: boolean, why: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (available) return true;
  const skipped = (env.FLEETSCALE_SKIP_SERVICES ?? '').split(',').map((s) => s.trim());
  if (env.CI === 'true' && !skipped.includes(service)) throw new Error(`CI=true but ${why} (name it in FLEETSCALE_SKIP_SERVICES to skip its suites)`);
  console.warn(`skipping the suites that need ${service}: ${why}`);
  return false;
}
