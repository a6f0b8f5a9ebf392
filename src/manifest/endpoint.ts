// Parsing `local` and `[user@]host[:port]` (with IPv4, names, bracketed or bare IPv6) into parts.
import { isIPv6 } from 'node:net';

/** The parts of an endpoint string; user and port only when written. */
export type ParsedEndpoint =
  | { kind: 'local' }
  | { kind: 'ssh'; user?: string; host: string; port?: number };

/** The outcome of parsing: the parts, or why the text is not an endpoint. */
export type EndpointParse = { ok: true; endpoint: ParsedEndpoint } | { ok: false; reason: string };

const WORD = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PORT = /^[0-9]{1,5}$/;
const ZONE = /^[A-Za-z0-9._-]+$/;

function port(text: string): number | string {
  if (!PORT.test(text)) return `port ${JSON.stringify(text)} is not a number`;
  const n = Number(text);
  if (n < 1 || n > 65535) return `port ${n} is out of range (1 to 65535)`;
  return n;
}

function ipv6(text: string): boolean {
  const percent = text.indexOf('%');
  if (percent === -1) return isIPv6(text);
  return isIPv6(text.slice(0, percent)) && ZONE.test(text.slice(percent + 1));
}

/**
 * Parses `local`, `host`, `user@host`, `host:port`, `user@[2001:db8::1]:22` or a bare `2001:db8::1`.
 * Names and users must be safe words (so nothing can pass for an ssh option); the host of an
 * IPv6 endpoint is returned without brackets.
 */
export function parseEndpoint(text: string): EndpointParse {
  if (text === 'local') return { ok: true, endpoint: { kind: 'local' } };
  let rest = text;
  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!WORD.test(user)) return { ok: false, reason: `user ${JSON.stringify(user)} is not a safe word` };
  }
  if (rest === '') return { ok: false, reason: 'the host is missing' };

  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) return { ok: false, reason: 'a "[" is not closed' };
    const host = rest.slice(1, close);
    if (!ipv6(host)) return { ok: false, reason: `${JSON.stringify(host)} is not an IPv6 address` };
    const after = rest.slice(close + 1);
    if (after === '') return { ok: true, endpoint: { kind: 'ssh', user, host } };
    if (!after.startsWith(':')) return { ok: false, reason: `unexpected ${JSON.stringify(after)} after "]"` };
    const p = port(after.slice(1));
    if (typeof p === 'string') return { ok: false, reason: p };
    return { ok: true, endpoint: { kind: 'ssh', user, host, port: p } };
  }

  const colons = rest.split(':').length - 1;
  if (colons >= 2) {
    // A bare IPv6 address: it cannot carry a port (write [addr]:port for that).
    if (!ipv6(rest)) return { ok: false, reason: `${JSON.stringify(rest)} is not an IPv6 address (write [address]:port to give a port)` };
    return { ok: true, endpoint: { kind: 'ssh', user, host: rest } };
  }
  let host = rest;
  let parsedPort: number | undefined;
  if (colons === 1) {
    const colon = rest.indexOf(':');
    host = rest.slice(0, colon);
    const p = port(rest.slice(colon + 1));
    if (typeof p === 'string') return { ok: false, reason: p };
    parsedPort = p;
  }
  if (!WORD.test(host)) return { ok: false, reason: `host ${JSON.stringify(host)} is not a host name or address` };
  return { ok: true, endpoint: { kind: 'ssh', user, host, port: parsedPort } };
}
