// Endpoint parsing: `local`, names, users, ports, IPv4/IPv6, and strings that must never pass.
import { describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../../src/manifest/index.js';

describe('parseEndpoint', () => {
  it.each([
    ['local', { kind: 'local' }],
    ['web-1', { kind: 'ssh', host: 'web-1' }],
    ['web-1.example.net', { kind: 'ssh', host: 'web-1.example.net' }],
    ['deploy@web-1', { kind: 'ssh', user: 'deploy', host: 'web-1' }],
    ['web-1:2222', { kind: 'ssh', host: 'web-1', port: 2222 }],
    ['deploy@203.0.113.7:22', { kind: 'ssh', user: 'deploy', host: '203.0.113.7', port: 22 }],
    ['[2001:db8::1]', { kind: 'ssh', host: '2001:db8::1' }],
    ['[2001:db8::1]:2222', { kind: 'ssh', host: '2001:db8::1', port: 2222 }],
    ['root@[fe80::1%eth0]:22', { kind: 'ssh', user: 'root', host: 'fe80::1%eth0', port: 22 }],
    ['2001:db8::1', { kind: 'ssh', host: '2001:db8::1' }],
    ['::1', { kind: 'ssh', host: '::1' }],
    ['alice@::ffff:192.0.2.1', { kind: 'ssh', user: 'alice', host: '::ffff:192.0.2.1' }],
    ['web-1:65535', { kind: 'ssh', host: 'web-1', port: 65535 }],
  ])('%s', (text, endpoint) => {
    expect(parseEndpoint(text)).toEqual({ ok: true, endpoint });
  });

  it.each([
    ['', 'the host is missing'],
    ['root@', 'the host is missing'],
    ['@web-1', 'user "" is not a safe word'],
    ['-oProxyCommand=sh', 'host "-oProxyCommand=sh" is not a host name or address'],
    ['root@-p22', 'host "-p22" is not a host name or address'],
    ['-l@web-1', 'user "-l" is not a safe word'],
    ['a b', 'host "a b" is not a host name or address'],
    ['web-1;reboot', 'host "web-1;reboot" is not a host name or address'],
    ['$(reboot)', 'host "$(reboot)" is not a host name or address'],
    ['`id`@web-1', 'user "`id`" is not a safe word'],
    ["web'1", 'host "web\'1" is not a host name or address'],
    ['web-1\nProxyCommand=x', 'host "web-1\\nProxyCommand=x" is not a host name or address'],
    ['web-1:0', 'port 0 is out of range (1 to 65535)'],
    ['web-1:65536', 'port 65536 is out of range (1 to 65535)'],
    ['web-1:-1', 'port "-1" is not a number'],
    ['web-1:22x', 'port "22x" is not a number'],
    ['web-1:', 'port "" is not a number'],
    ['[2001:db8::1', 'a "[" is not closed'],
    ['[web-1]:22', '"web-1" is not an IPv6 address'],
    ['[::1]x', 'unexpected "x" after "]"'],
    ['[::1%$(x)]', '"::1%$(x)" is not an IPv6 address'],
    ['fe80::1::2', '"fe80::1::2" is not an IPv6 address (write [address]:port to give a port)'],
    ['a@b@c', 'host "b@c" is not a host name or address'],
  ])('rejects %j', (text, reason) => {
    expect(parseEndpoint(text)).toEqual({ ok: false, reason });
  });
});
