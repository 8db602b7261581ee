import { errors } from '../errors.js';

// Browsers cannot set headers on a WebSocket, and a token in the URL ends up in proxy logs and
// history. So a browser offers two subprotocols, as Kubernetes does for its API:
//   new WebSocket(url, ['pixveil', 'pixveil.bearer.' + base64url(token)])
// The server selects `pixveil`, never echoing the token back.

export const WS_PROTOCOL = 'pixveil';
export const WS_BEARER_PREFIX = 'pixveil.bearer.';

export interface OfferedProtocols {
  /** What the 101 response names in Sec-WebSocket-Protocol ('' for none). */
  selected: string;
  /** The credential carried by a `pixveil.bearer.<base64url>` entry, if any. */
  token?: string;
}

/** Reads a Sec-WebSocket-Protocol request header; throws 401 for an unreadable token, 400 when `pixveil` is missing beside one. */
export function readOfferedProtocols(header: string): OfferedProtocols {
  const offered = header.split(',').map((p) => p.trim()).filter(Boolean);
  const bearer = offered.find((p) => p.startsWith(WS_BEARER_PREFIX));
  const others = offered.filter((p) => !p.startsWith(WS_BEARER_PREFIX));
  if (!bearer) return { selected: offered.includes(WS_PROTOCOL) ? WS_PROTOCOL : header };
  if (!others.includes(WS_PROTOCOL)) {
    throw errors.invalidOption('Sec-WebSocket-Protocol', `"${WS_PROTOCOL}" offered beside the ${WS_BEARER_PREFIX}<token> entry (the server selects it)`, others.join(', '));
  }
  const encoded = bearer.slice(WS_BEARER_PREFIX.length);
  const token = /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, 'base64url').toString('utf8') : '';
  if (!token) throw errors.unauthenticated(`The ${WS_BEARER_PREFIX} subprotocol must carry the token encoded as base64url`);
  return { selected: WS_PROTOCOL, token };
}
