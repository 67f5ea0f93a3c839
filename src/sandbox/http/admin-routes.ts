import type { AdminControls } from '../controls.ts';
import { ERRORS, SandboxInputError } from '../errors.ts';
import { objectWith } from './admin-input.ts';
import type { Json } from './form.ts';

export const ADMIN_PREFIX = '/__sandbox';

type Route = (controls: AdminControls, body: unknown, id: number) => Json;

const ok = { ok: true };

/**
 * The sandbox's own endpoints, never part of the supplier API. Keys are "METHOD path", `:id` a whole
 * number. Bodies go to the controls as parsed JSON: each control checks its own input.
 */
const ROUTES = new Map<string, Route>([
  ['GET /flavour', (controls) => ({ flavour: controls.flavour })],
  ['GET /stats', (controls) => controls.stats()],
  ['POST /stats/reset', (controls) => (controls.resetStats(), ok)],
  ['POST /faults', (controls, body) => (controls.setFaults(body), ok)],
  ['DELETE /faults', (controls) => (controls.clearFaults(), ok)],
  ['POST /quirks', (controls, body) => (controls.setQuirks(body), ok)],
  ['DELETE /quirks', (controls) => (controls.setQuirks({}), ok)],
  [
    'POST /clock',
    (controls, body) => {
      const { advanceSeconds } = objectWith(body, ['advanceSeconds'], 'clock');
      if (advanceSeconds === undefined) throw new SandboxInputError('advanceSeconds is required');
      controls.advance(advanceSeconds);
      return ok;
    },
  ],
  ['POST /orders/:id', (controls, body, id) => (controls.forceOrder(id, body), ok)],
  ['POST /sms/:id', (controls, body, id) => (controls.forceSms(id, body), ok)],
  ['POST /refills/:id', (controls, body, id) => (controls.forceRefill(id, body), ok)],
]);

export interface AdminAnswer {
  status: number;
  body: Json;
}

export function answerAdmin(controls: AdminControls, method: string, path: string, rawBody: string): AdminAnswer {
  const subpath = path.slice(ADMIN_PREFIX.length).replace(/\/$/, '');
  const id = /\/(\d+)$/.exec(subpath)?.[1];
  const pattern = id === undefined ? subpath : subpath.replace(/\d+$/, ':id');
  const route = ROUTES.get(`${method} ${pattern}`);
  if (!route) {
    const known = [...ROUTES.keys()].some((key) => key.endsWith(` ${pattern}`));
    const [status, error] = known ? [405, ERRORS.methodNotAllowed] : [404, ERRORS.notFound];
    return { status, body: { error } };
  }
  try {
    return { status: 200, body: route(controls, parseBody(rawBody), Number(id)) };
  } catch (error) {
    if (error instanceof SandboxInputError) return { status: error.status, body: { error: error.message } };
    throw error;
  }
}

function parseBody(rawBody: string): unknown {
  if (rawBody.trim() === '') return {};
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new SandboxInputError('the body must be JSON');
  }
}
