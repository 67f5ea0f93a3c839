/**
 * oidc-provider announces, as it loads, that it supports Node.js 22 and later only. This project
 * runs it on Node.js 20.18 and later (its tests drive the whole provider there), and the notice
 * would be a second line beside the one reason a failed start-up prints. Imported first by
 * identity/index.ts, this leaves that notice out of console.warn while the modules load, and puts
 * console.warn back once they have.
 */
const warn = console.warn;

console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime')) return;
  warn(...args);
};

queueMicrotask(() => {
  console.warn = warn;
});
