import { createHash } from 'node:crypto';
import { scanRegex, type Recognizer } from '../recognizer.js';

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE58 = /(?<![\p{L}\p{N}])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![\p{L}\p{N}])/gu;
const BECH32 = /(?<![\p{L}\p{N}])(?:bc|tb)1[02-9ac-hj-np-z]{8,87}(?![\p{L}\p{N}])/giu;
const ETHEREUM = /(?<![\p{L}\p{N}])0x[0-9a-fA-F]{40}(?![\p{L}\p{N}])/gu;

function base58Decode(value: string): Uint8Array | null {
  const bytes: number[] = [0];
  for (const ch of value) {
    let carry = BASE58_ALPHABET.indexOf(ch);
    if (carry < 0) return null;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (const ch of value) {
    if (ch !== '1') break;
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Legacy (P2PKH/P2SH) Bitcoin address: 25 bytes whose last 4 are the double SHA-256 checksum. */
export function isBase58CheckAddress(value: string): boolean {
  const bytes = base58Decode(value);
  if (bytes === null || bytes.length !== 25) return false;
  const checksum = sha256(sha256(bytes.subarray(0, 21)));
  return checksum.subarray(0, 4).equals(Buffer.from(bytes.subarray(21)));
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Segwit address: bech32 (v0, constant 1) or bech32m (v1+, constant 0x2bc830a3) checksum. */
export function isBech32Address(value: string): boolean {
  if (value !== value.toLowerCase() && value !== value.toUpperCase()) return false;
  const lower = value.toLowerCase();
  const sep = lower.lastIndexOf('1');
  const hrp = lower.slice(0, sep);
  const data = [...lower.slice(sep + 1)].map((c) => BECH32_CHARSET.indexOf(c));
  if (data.some((d) => d < 0) || data.length < 7) return false;
  const values = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31), ...data];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i];
  }
  chk >>>= 0;
  const witnessVersion = data[0];
  return witnessVersion === 0 ? chk === 1 : chk === 0x2bc830a3;
}

export const cryptoRecognizer: Recognizer = {
  type: 'CRYPTO',
  contextWords: ['wallet', 'bitcoin', 'btc', 'ethereum', 'eth', 'crypto', 'address'],
  maxSpanLength: 90,
  find(text) {
    return [
      ...scanRegex(text, BASE58, 'CRYPTO', (m) => (isBase58CheckAddress(m[0]) ? 0.95 : null)),
      ...scanRegex(text, BECH32, 'CRYPTO', (m) => (isBech32Address(m[0]) ? 0.95 : null)),
      // EIP-55 mixed-case checksums need Keccak; the 0x + 40 hex shape alone is a medium signal.
      ...scanRegex(text, ETHEREUM, 'CRYPTO', () => 0.6),
    ];
  },
};
