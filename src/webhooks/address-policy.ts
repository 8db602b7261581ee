// Which addresses a callback may reach (SSRF): public unicast only, unless WEBHOOK_ALLOW_PRIVATE.
// Checked at upload (a clear 400) and again right before each delivery (DNS may have changed),
// and the delivery connects to the very address that was checked.
import dns from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { errors } from '../errors.js';

// ipaddr.js names the special ranges (IANA's registries); these are the words our messages use.
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  reserved: 'reserved or documentation',
  as112: 'AS112 anycast',
  amt: 'AMT anycast',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  discard: 'discard',
  benchmarking: 'benchmarking',
  as112v6: 'AS112 anycast',
  deprecatedOrchid: 'ORCHID',
  orchid2: 'ORCHID',
  droneRemoteIdProtocolEntityTags: 'drone remote ID',
  segmentRouting: 'segment routing',
};

/**
 * Where each IPv6 form that carries an IPv4 address keeps it (byte offsets into the 16 bytes), by
 * the ipaddr.js range name. Every candidate is checked: a local-use NAT64 prefix (RFC 8215) may be
 * /48 to /96 long, and Teredo names both its server and its (bit-inverted) client.
 */
type IPv4Position = { at: [number, number, number, number]; invert?: boolean };
const EMBEDDED_IPV4: Record<string, IPv4Position[]> = {
  ipv4Mapped: [{ at: [12, 13, 14, 15] }], // ::ffff:a.b.c.d
  rfc6145: [{ at: [12, 13, 14, 15] }], // ::ffff:0:a.b.c.d (IPv4-translated)
  rfc6052: [
    { at: [12, 13, 14, 15] }, // /96, the only length of 64:ff9b::/96
    { at: [6, 7, 9, 10] }, // /48 (RFC 6052 skips byte 8, the "u" octet)
    { at: [7, 9, 10, 11] }, // /56
    { at: [9, 10, 11, 12] }, // /64
  ],
  '6to4': [{ at: [2, 3, 4, 5] }], // 2002:aabb:ccdd::
  teredo: [{ at: [4, 5, 6, 7] }, { at: [12, 13, 14, 15], invert: true }], // server, client
};

const WELL_KNOWN_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const LAST_FOUR_BYTES: IPv4Position[] = [{ at: [12, 13, 14, 15] }];

function ipv4At(bytes: number[], at: readonly number[], invert = false): ipaddr.IPv4 {
  return new ipaddr.IPv4(at.map((i) => (invert ? bytes[i] ^ 0xff : bytes[i])));
}

/** The deprecated IPv4-compatible form ::a.b.c.d, which ipaddr.js counts as plain unicast (:: and ::1 have ranges of their own). */
function isIPv4Compatible(range: string, bytes: number[]): boolean {
  return range === 'unicast' && bytes.slice(0, 12).every((b) => b === 0);
}

/** Where `v6` carries an IPv4 address, or undefined when it carries none. */
function embeddedIPv4Positions(v6: ipaddr.IPv6, range: string, bytes: number[]): IPv4Position[] | undefined {
  // ipaddr.js names both NAT64 prefixes rfc6052; the well-known one is /96 only.
  if (range === 'rfc6052' && v6.match(WELL_KNOWN_NAT64)) return LAST_FOUR_BYTES;
  return EMBEDDED_IPV4[range] ?? (isIPv4Compatible(range, bytes) ? LAST_FOUR_BYTES : undefined);
}

function refusedV4(address: ipaddr.IPv4): string | undefined {
  const range = address.range();
  return range === 'unicast' ? undefined : RANGE_NAMES[range] ?? range;
}

/** The kind of range `address` lies in when a callback may not reach it; undefined for a public unicast address. */
export function refusedRange(address: string): string | undefined {
  const bare = address.replace(/%.*$/, '');
  if (!net.isIP(bare) || !ipaddr.isValid(bare)) return 'unparsable';
  const parsed = ipaddr.parse(bare);
  if (parsed.kind() === 'ipv4') return refusedV4(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  const bytes = v6.toByteArray();
  const range = v6.range();
  const carriers = embeddedIPv4Positions(v6, range, bytes);
  if (carriers) {
    // Classified by the IPv4 address it reaches: loopback inside NAT64 is still loopback.
    for (const { at, invert } of carriers) {
      const inner = refusedV4(ipv4At(bytes, at, invert));
      if (inner) return `${inner} (IPv4 inside IPv6)`;
    }
    return undefined;
  }
  return range === 'unicast' ? undefined : RANGE_NAMES[range] ?? range;
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
  // Port 0 is no service: stacks treat it as "any port", and some connect it somewhere unexpected.
  if (url.port === '0') throw errors.invalidCallbackUrl('port 0 is not a port a receiver can listen on');
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
export type ResolveHost = (host: string) => Promise<CallbackTarget['addresses']>;

/** getaddrinfo, every address in the resolver's order. */
export const resolveHost: ResolveHost = async (host) => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));

export async function checkCallbackTarget(raw: string, allowPrivate: boolean, resolveTimeoutMs = 5000, resolve: ResolveHost = resolveHost): Promise<CallbackTarget> {
  const url = parseCallbackUrl(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: CallbackTarget['addresses'];
  if (net.isIP(host)) {
    addresses = [{ address: host, family: net.isIP(host) as 4 | 6 }];
  } else {
    try {
      addresses = await withTimeout(resolve(host), resolveTimeoutMs);
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
