/**
 * A webhook receiver on loopback, as a customer would write one: it verifies each delivery with
 * `standardwebhooks` against the secrets it was given and records it. It can be down (503), gone
 * (410), closed (connections dropped), slow, or fail the first attempts of each event.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

interface WebhookPayload {
  type: string;
  timestamp: string;
  data: { eventId: string; version: number; kind: string; order: Record<string, unknown> };
}

interface Hit {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The secrets (their index in `secrets`) that verify it. */
  verifiedBy: number[];
  payload: WebhookPayload;
  /** What the receiver answered. */
  status: number;
  at: number;
}

type Mode = 'up' | 'down' | 'gone' | 'closed';

export interface Receiver {
  url: string;
  /** Every request, in arrival order. */
  hits: Hit[];
  /** Verified deliveries answered 2xx, the first of each `webhook-id` only, in arrival order. */
  delivered(): Hit[];
  /** The secrets deliveries are verified with. */
  secrets: string[];
  mode: Mode;
  /** Answers 503 to the first `count` requests of each `webhook-id`. */
  failFirst: number;
  /** Holds each answer this long. */
  delayMs: number;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startReceiver(secrets: string[] = []): Promise<Receiver> {
  const seen = new Map<string, number>();
  const receiver: Receiver = {
    url: '',
    hits: [],
    secrets,
    mode: 'up',
    failFirst: 0,
    delayMs: 0,
    delivered() {
      const first = new Map<string, Hit>();
      for (const hit of receiver.hits) if (hit.status < 300 && hit.verifiedBy.length > 0 && !first.has(hit.id)) first.set(hit.id, hit);
      return [...first.values()];
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    if (receiver.mode === 'closed') return void req.socket.destroy();
    const body = await bodyOf(req);
    const headers = {
      'webhook-id': String(req.headers['webhook-id']),
      'webhook-timestamp': String(req.headers['webhook-timestamp']),
      'webhook-signature': String(req.headers['webhook-signature']),
    };
    const verifiedBy = receiver.secrets.flatMap((secret, index) => {
      try {
        new Webhook(secret).verify(body, headers);
        return [index];
      } catch {
        return [];
      }
    });
    const count = (seen.get(headers['webhook-id']) ?? 0) + 1;
    seen.set(headers['webhook-id'], count);
    let status = verifiedBy.length > 0 ? 204 : 400;
    if (receiver.mode === 'down' || count <= receiver.failFirst) status = 503;
    if (receiver.mode === 'gone') status = 410;
    receiver.hits.push({
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      body,
      verifiedBy,
      payload: JSON.parse(body) as WebhookPayload,
      status,
      at: Date.now(),
    });
    if (receiver.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, receiver.delayMs));
    res.writeHead(status).end();
  };
  const server = createServer((req, res) => void answer(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
