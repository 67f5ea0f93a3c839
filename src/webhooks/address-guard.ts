/**
 * Webhooks go to public addresses only: a caller must not make the gateway post into its own
 * network (SSRF). Checked when an endpoint is created, on every address its host resolves to, and
 * again when each attempt connects, since a name can resolve elsewhere later (DNS rebinding).
 * WEBHOOK_ALLOW_PRIVATE=true lifts it, for tests and the sandbox.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { badInput } from '../errors.ts';

/** Address ranges refused, each with the reason a refusal gives. Cloud metadata first: it is also link-local. */
const REFUSED: Array<[reason: string, family: 'ipv4' | 'ipv6', network: string, prefix: number]> = [
  ['cloud metadata', 'ipv4', '169.254.169.254', 32],
  ['cloud metadata', 'ipv6', 'fd00:ec2::254', 128],
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['unspecified', 'ipv6', '::', 128],
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['loopback', 'ipv6', '::1', 128],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['private', 'ipv6', 'fc00::', 7],
  ['CGNAT', 'ipv4', '100.64.0.0', 10],
  ['link-local', 'ipv4', '169.254.0.0', 16],
  ['link-local', 'ipv6', 'fe80::', 10],
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['multicast', 'ipv6', 'ff00::', 8],
  ['reserved', 'ipv4', '240.0.0.0', 4],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  // IPv4 inside IPv6 other than mapped addresses (judged as IPv4 below): compatible, NAT64, 6to4.
  ['IPv4-compatible', 'ipv6', '::', 96],
  ['NAT64', 'ipv6', '64:ff9b::', 96],
  ['NAT64', 'ipv6', '64:ff9b:1::', 48],
  ['6to4', 'ipv6', '2002::', 16],
  ['discard', 'ipv6', '100::', 64],
  ['documentation', 'ipv6', '2001:db8::', 32],
];

const ranges = REFUSED.map(([reason, family, network, prefix]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { reason, family, list };
});

/** The 16 bytes of an IPv6 address in any of its written forms (`::` anywhere, a dotted IPv4 tail). */
function ipv6Bytes(address: string): number[] {
  const text = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  const hex = tail
    ? text.slice(0, tail.index) + ((+tail[1]! << 8) | +tail[2]!).toString(16) + ':' + ((+tail[3]! << 8) | +tail[4]!).toString(16)
    : text;
  const [head, rest] = hex.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((group) => {
    const value = parseInt(group || '0', 16);
    return [value >> 8, value & 0xff];
  });
}

/**
 * Why an address is refused, or undefined for a public one. An IPv4 address mapped into IPv6
 * (`::ffff:0:0/96`), in whatever form it is written (`::ffff:127.0.0.1`, `::ffff:7f00:1`), is
 * judged as the IPv4 address it is.
 */
export function refusedBecause(address: string): string | undefined {
  let ip = address;
  if (isIP(address) === 6) {
    const bytes = ipv6Bytes(address);
    if (bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff) ip = bytes.slice(12).join('.');
  }
  const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  return ranges.find((range) => range.family === family && range.list.check(ip, family))?.reason;
}

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** A connection refused because its address is not public; the sender counts it as refused_address. */
export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';
  readonly code = 'EADDRREFUSED';
}

const urlRefused = (reason: string) =>
  badInput(`The webhook URL is refused: ${reason}.`, { field: 'url', reason: reason.toUpperCase().replaceAll(/[^A-Z]+/g, '_') });

/** The endpoint URL as it will be called: http(s), no credentials, a host whose every address is public. */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, resolve: Resolve = systemResolve): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw urlRefused('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw urlRefused('not http or https');
  if (url.username || url.password) throw urlRefused('it carries credentials');
  if (raw.length > 2048) throw urlRefused('longer than 2048 characters');
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(host)
    ? [host]
    : await resolve(host).then(
        (found) => found.map((entry) => entry.address),
        () => [],
      );
  if (addresses.length === 0) throw urlRefused('its host does not resolve');
  for (const address of addresses) {
    const reason = refusedBecause(address);
    if (reason) throw urlRefused(`its host resolves to a ${reason} address`);
  }
  return url;
}

/**
 * The `lookup` of the sockets of deliveries: the host's public addresses only, so a name that now
 * resolves inward fails to connect (all its addresses, with `allowPrivate`). An address in the URL
 * itself needs no lookup: the sender checks it before it connects.
 */
export function connectLookup(allowPrivate: boolean, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    resolve(hostname).then(
      (found) => {
        const allowed = found.filter(
          (entry) => (allowPrivate || !refusedBecause(entry.address)) && (!options.family || entry.family === options.family),
        );
        if (allowed.length === 0) return callback(new AddressRefusedError('no public address'), '', 0);
        if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, allowed);
        callback(null, allowed[0]!.address, allowed[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
