// Builds dist/ when it is missing or older than any file in src/, so that `npm start` always runs
// the code that is checked out, compiled, under plain node.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }, 0);

const built = (() => {
  try {
    return statSync('dist/main.js').mtimeMs;
  } catch {
    return 0;
  }
})();

if (built < Math.max(newest('src'), statSync('tsconfig.build.json').mtimeMs, statSync('package-lock.json').mtimeMs)) {
  console.error('Building dist/ (npm run build)…');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
