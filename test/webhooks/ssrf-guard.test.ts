/** Which addresses the SSRF guard refuses, and how an operator's allow-list overrides it. */
import { describe, expect, it } from 'vitest';
import { AllowList, forbiddenReason } from '../../src/webhooks/ssrf-guard.ts';

const none = new AllowList('');

describe('SSRF guard', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.100.100.200', // Alibaba metadata (CGNAT range)
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe', // mapped 169.254.169.254
    'fd00:ec2::254', // AWS metadata over IPv6
    'fe80::1',
    'fc00::1',
    '64:ff9b::a00:1', // NAT64 of 10.0.0.1
  ])('refuses %s', (address) => {
    expect(forbiddenReason(address, none)).toMatch(/private|loopback|link-local|reserved/);
  });

  it.each(['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111'])(
    'allows the public address %s',
    (address) => {
      expect(forbiddenReason(address, none)).toBeNull();
    },
  );

  it('lets the operator allow-list single addresses and networks', () => {
    const allow = new AllowList('127.0.0.1, 10.1.0.0/16,::1');
    expect(forbiddenReason('127.0.0.1', allow)).toBeNull();
    expect(forbiddenReason('127.0.0.2', allow)).not.toBeNull();
    expect(forbiddenReason('10.1.2.3', allow)).toBeNull();
    expect(forbiddenReason('10.2.0.1', allow)).not.toBeNull();
    expect(forbiddenReason('::1', allow)).toBeNull();
    expect(() => new AllowList('localhost')).toThrow(/not an IP/);
    expect(() => new AllowList('10.0.0.0/40')).toThrow(/prefix/);
  });
});
