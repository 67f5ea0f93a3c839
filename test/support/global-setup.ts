/**
 * Builds dist/ once, before any test file runs, when it is older than src/: the tests that start
 * the gateway as operators run it (npm start, the systemd unit's command line) then find it built,
 * and two of them never compile it at the same time. A type error does not stop the other tests
 * (tsc still writes dist/; the typecheck step is where it fails the run).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  try {
    execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: join(import.meta.dirname, '../..'), stdio: 'inherit' });
  } catch {
    console.warn('\n  dist/ was built with type errors (see above): `npm run typecheck` names them.\n');
  }
}
