import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * SSRF guard for webhook URLs (docs/decisions/0010). A merchant chooses the URL, the gateway makes
 * the request: without a guard an endpoint could aim the gateway at its own database, the cloud
 * metadata service or anything else inside the network. Checked at creation (a clear 422) and
 * again at every connection, on the address actually connected to, because DNS can change
 * between the two (rebinding). The operator may allow-list networks (TALLY_WEBHOOK_ALLOWED_NETWORKS).
 */
const FORBIDDEN_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. the cloud metadata service 169.254.169.254
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (Oracle metadata 192.0.0.192)
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast
];
const FORBIDDEN_V6: Array<[string, number]> = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['::ffff:0:0', 96], // IPv4-mapped: would reach any IPv4 address, private ones included
  ['64:ff9b::', 96], // NAT64: same
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (AWS metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

// Two lists: Node's BlockList matches an IPv4 address against IPv6 rules as IPv4-mapped, so one
// list with ::ffff:0:0/96 in it would refuse every IPv4 address.
const FORBIDDEN_4 = new BlockList();
for (const [net, prefix] of FORBIDDEN_V4) FORBIDDEN_4.addSubnet(net, prefix, 'ipv4');
const FORBIDDEN_6 = new BlockList();
for (const [net, prefix] of FORBIDDEN_V6) FORBIDDEN_6.addSubnet(net, prefix, 'ipv6');

export class AllowList {
  private readonly list = new BlockList();
  readonly entries: string[];

  /** Comma-separated addresses or CIDR networks, e.g. "127.0.0.1,10.1.0.0/16,::1". */
  constructor(spec: string) {
    this.entries = spec
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const entry of this.entries) {
      const [address = '', bits] = entry.split('/');
      const family = isIP(address);
      if (family === 0) throw new Error(`not an IP address or network: ${entry}`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(address, type);
      else {
        const prefix = Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
          throw new Error(`bad prefix length: ${entry}`);
        this.list.addSubnet(address, prefix, type);
      }
    }
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Why an address may not be called, or null if it may. */
export function forbiddenReason(address: string, allow: AllowList): string | null {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (allow.has(address)) return null;
  if (family === 4 ? FORBIDDEN_4.check(address, 'ipv4') : FORBIDDEN_6.check(address, 'ipv6'))
    return `${address} is a private, loopback, link-local or reserved address`;
  return null;
}

export class ForbiddenAddressError extends Error {
  readonly code = 'ESSRF';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request: resolves as usual, then refuses the connection if any address is
 * forbidden. The socket connects to what this returns, so the address checked is the address used.
 */
export function guardedLookup(allow: AllowList) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const reason = forbiddenReason(a.address, allow);
        if (reason) return callback(new ForbiddenAddressError(`${hostname}: ${reason}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), []);
      callback(null, first.address, first.family);
    });
  };
}

/** The bare host of a URL: IPv6 literals without their brackets. */
export function urlHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** All addresses a URL's host resolves to (itself if it is an IP literal). */
export async function resolveHost(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, a) => (err ? reject(err) : resolve(a))),
  );
  return addresses.map((a) => a.address);
}
