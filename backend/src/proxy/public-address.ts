import { BlockList, isIP } from 'node:net';

/** Loopback, private, link-local, reserved and other non-public ranges a shared store must not reach for a teammate. */
const nonPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv4');
}
// Ranges that embed an IPv4 address in a known place are judged by that address instead (see embeddedIpv4).
for (const [net, prefix] of [
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): its translator serves a private network
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: tunnels to an IPv4 address the prefix hides
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv6');
}

/** The 16 bytes of an IPv6 address (`isIP` already said it is one), zone id ignored. */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const start = groups(head);
  const end = groups(tail);
  const all = [...start, ...Array<number>(8 - start.length - end.length).fill(0), ...end];
  return all.flatMap((group) => [group >> 8, group & 0xff]);
}

const startsWith = (bytes: number[], prefix: number[]) => prefix.every((byte, index) => bytes[index] === byte);
const zeros = (count: number) => Array<number>(count).fill(0);

/**
 * The IPv4 address an IPv6 address stands for, where the network reaches it by that IPv4
 * address: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, which also covers :: and ::1 as 0.0.0.0 and 0.0.0.1), NAT64 (64:ff9b::a.b.c.d)
 * and 6to4 (2002:aabb:ccdd::).
 */
function embeddedIpv4(bytes: number[]): string | undefined {
  const dotted = (from: number) => bytes.slice(from, from + 4).join('.');
  if (startsWith(bytes, [...zeros(10), 0xff, 0xff])) return dotted(12);
  if (startsWith(bytes, [...zeros(8), 0xff, 0xff, 0, 0])) return dotted(12);
  if (startsWith(bytes, zeros(12))) return dotted(12);
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, ...zeros(8)])) return dotted(12);
  if (startsWith(bytes, [0x20, 0x02])) return dotted(2);
  return undefined;
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (family !== 6) return false;
  const bytes = ipv6Bytes(address);
  const ipv4 = embeddedIpv4(bytes);
  if (ipv4 !== undefined) return isPublicAddress(ipv4);
  return !nonPublic.check(address.split('%')[0], 'ipv6');
}
