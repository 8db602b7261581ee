// Which addresses a callback may reach (SSRF): public unicast only, unless WEBHOOK_ALLOW_PRIVATE.
// Checked at upload (a clear 400) and again right before each delivery (DNS may have changed),
// and the delivery connects to the very address that was checked.
import dns from 'node:dns/promises';
import net from 'node:net';
import { errors } from '../errors.js';

type Range = [network: string, prefix: number, name: string];

const V4: Range[] = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function blockList(ranges: Range[], family: 'ipv4' | 'ipv6'): Array<[net.BlockList, string]> {
  return ranges.map(([network, prefix, name]) => {
    const list = new net.BlockList();
    list.addSubnet(network, prefix, family);
    return [list, name];
  });
}
const V4_LISTS = blockList(V4, 'ipv4');
const V6_LISTS = blockList(V6, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (dotted-quad tail included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '');
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const bytes = quad[1].split('.').map(Number);
    text = `${text.slice(0, -quad[1].length)}${((bytes[0] << 8) | bytes[1]).toString(16)}:${((bytes[2] << 8) | bytes[3]).toString(16)}`;
  }
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...new Array(Math.max(0, fill)).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** IPv4 carried inside an IPv6 address: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d) or NAT64 (64:ff9b::a.b.c.d). */
function embeddedIPv4(groups: number[]): string | undefined {
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  const mapped = zeros(0, 5) && groups[5] === 0xffff;
  const compatible = zeros(0, 6) && (groups[6] !== 0 || groups[7] > 1);
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !compatible && !nat64) return undefined;
  return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
}

/** The kind of range `address` lies in when a callback may not reach it; undefined for a public unicast address. */
export function refusedRange(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 4) return V4_LISTS.find(([list]) => list.check(address, 'ipv4'))?.[1];
  if (family !== 6) return 'unparsable';
  const groups = ipv6Groups(address);
  if (!groups) return 'unparsable';
  const v4 = embeddedIPv4(groups);
  if (v4) {
    const inner = refusedRange(v4);
    if (inner) return `${inner} (IPv4 inside IPv6)`;
  }
  const canonical = groups.map((g) => g.toString(16)).join(':');
  return V6_LISTS.find(([list]) => list.check(canonical, 'ipv6'))?.[1];
}

export interface CallbackTarget {
  url: URL;
  /** Addresses the host resolved to, all checked; the delivery connects to the first. */
  addresses: Array<{ address: string; family: 4 | 6 }>;
}

/** Syntax only: absolute http(s) URL, no credentials, at most 2048 characters. Throws INVALID_CALLBACK_URL. */
export function parseCallbackUrl(raw: string): URL {
  if (raw.length > 2048) throw errors.invalidCallbackUrl('longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw errors.invalidCallbackUrl(`${JSON.stringify(raw.slice(0, 80))} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw errors.invalidCallbackUrl(`only http and https are allowed, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw errors.invalidCallbackUrl('credentials in the URL are not allowed (authenticate the request by its signature)');
  return url;
}

/** getaddrinfo has no timeout of its own; a resolver that hangs must not hold an upload. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Parses and resolves a callback URL and checks every address it resolves to. Throws
 * INVALID_CALLBACK_URL naming the host and the range it lies in.
 */
export async function checkCallbackTarget(raw: string, allowPrivate: boolean, resolveTimeoutMs = 5000): Promise<CallbackTarget> {
  const url = parseCallbackUrl(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: CallbackTarget['addresses'];
  if (net.isIP(host)) {
    addresses = [{ address: host, family: net.isIP(host) as 4 | 6 }];
  } else {
    try {
      addresses = (await withTimeout(dns.lookup(host, { all: true, verbatim: true }), resolveTimeoutMs)).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (err) {
      throw errors.invalidCallbackUrl(`host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
    }
    if (addresses.length === 0) throw errors.invalidCallbackUrl(`host ${host} does not resolve`);
  }
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const range = refusedRange(address);
      if (range) throw errors.invalidCallbackUrl(`${host} resolves to ${address}, a ${range} address; callbacks go to public addresses only (WEBHOOK_ALLOW_PRIVATE=true allows others)`);
    }
  }
  return { url, addresses };
}
