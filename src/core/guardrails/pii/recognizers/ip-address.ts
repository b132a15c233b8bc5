import { scanRegex, type Recognizer } from '../recognizer.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// Not glued to letters, digits or a preceding dot; a trailing ".1" after four octets is allowed
// (the first four octets are reported), as in "192.168.1.1.1".
const IPV4 = new RegExp(`(?<![\\p{L}\\p{N}.])${OCTET}(?:\\.${OCTET}){3}(?![\\p{L}\\d]|\\.\\d{1,3}\\.)(?!\\d)`, 'gu');
const IPV6_CANDIDATE = /(?<![\p{L}\p{N}:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\p{L}\p{N}:]|\.\d)/gu;

export function isIpv4(value: string): boolean {
  return new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`).test(value);
}

export function isIpv6(value: string): boolean {
  let body = value;
  let groupsNeeded = 8;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIpv4(tail)) return false;
    body = body.slice(0, lastColon + 1) + '0';
    groupsNeeded = 7;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const parse = (part: string): string[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g)) ? groups : null;
  };
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if (left === null || right === null) return false;
  const count = left.length + right.length;
  if (halves.length === 2) return count <= groupsNeeded - 1;
  return count === groupsNeeded;
}

export const ipAddressRecognizer: Recognizer = {
  type: 'IP_ADDRESS',
  contextWords: ['ip', 'ipv4', 'ipv6', 'address', 'server', 'host', 'connect', 'src', 'dst'],
  maxSpanLength: 45,
  find(text) {
    const v4 = scanRegex(text, IPV4, 'IP_ADDRESS', () => 0.9);
    const v6 = scanRegex(text, IPV6_CANDIDATE, 'IP_ADDRESS', (m) => {
      // A sentence-ending colon or a "std::" scope is not part of an address.
      let value = m[0];
      if (value.endsWith(':') && !value.endsWith('::')) value = value.slice(0, -1);
      m[0] = value;
      if (!isIpv6(value)) return null;
      // Bare "::" only with an IPv6 word nearby is too weak; report it lower.
      return value === '::' ? 0.6 : 0.9;
    });
    return [...v4, ...v6];
  },
};
