/**
 * Owns turning parsed `--run-for` options into absolute times for one install: the client's schedule, the run's end
 * and the site events.
 */
import type { LifecycleOptions, Network } from './lifecycle-options.js';
import type { ScheduledSiteEvent } from './lifecycle-runner.js';
import type { ClientSchedule } from './schedule.js';

export interface LifecyclePlan {
  schedule: ClientSchedule;
  siteEvents: ScheduledSiteEvent[];
  endMs: number;
}

export function planLifecycle(options: LifecycleOptions, install: { installMs: number; timeZone: string; network: Network }): LifecyclePlan {
  const endMs = install.installMs + options.runForMs;
  const schedule: ClientSchedule = {
    installMs: install.installMs,
    endMs,
    timeZone: install.timeZone,
    restart: options.restart,
    installNetwork: install.network,
    offline: options.offline,
    ...(options.roam !== undefined ? { roam: options.roam } : {}),
  };
  const siteEvents = options.siteEvents.map((e) => ({ atMs: install.installMs + e.atMs, action: e.action, text: e.text }));
  return { schedule, siteEvents, endMs };
}
