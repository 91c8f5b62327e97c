import { buildDashboard, dashboardIsStale } from '../scripts/build-dashboard.ts';

/**
 * The dashboard's tests (and the gateway's trusted documents) use its build, dist/dashboard:
 * built once here when it is missing or older than dashboard/ (about a second), so
 * `npx vitest run` works right after a clone and never tests a stale page.
 */
export default async function setup() {
  if (dashboardIsStale()) await buildDashboard();
}
