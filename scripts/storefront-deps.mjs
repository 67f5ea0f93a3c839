// Installs the storefront's own dependencies (examples/storefront) when they are missing or its
// lock file changed since, so that `npm test` can build it and drive it in Chromium. Its packages
// stay out of the gateway's package.json.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const dir = 'examples/storefront';
const read = (path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
};
// npm writes node_modules/.package-lock.json on install: the packages it holds, as the lock names them.
const installed = read(`${dir}/node_modules/.package-lock.json`)?.packages ?? {};
const wanted = Object.entries(read(`${dir}/package-lock.json`)?.packages ?? {}).filter(([path, entry]) => path && !entry.optional);
if (wanted.some(([path, entry]) => installed[path]?.version !== entry.version)) {
  console.error(`Installing the storefront's dependencies (npm ci in ${dir})…`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
}
