import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';

/**
 * JSON-RPC 2.0 framing of the MCP stdio transport (specification 2025-11-25, "Transports"): one message per line,
 * UTF-8, no embedded newlines. Messages are checked with the MCP SDK's JSON-RPC schema; what is forwarded is the
 * message exactly as parsed (never the schema's copy, which could drop fields a newer revision adds).
 */

export type RpcId = string | number;

/** One line read from a peer: a message to handle, or an error answer owed to the sender. */
export type Parsed =
  | { ok: true; message: JSONRPCMessage & Record<string, unknown> }
  | { ok: false; error: JsonRpcErrorMessage };

export interface JsonRpcErrorMessage {
  jsonrpc: '2.0';
  id: RpcId | null;
  error: { code: number; message: string };
}

export function errorMessage(id: RpcId | null, code: number, message: string): JsonRpcErrorMessage {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** The id of a value that looks like a request, for an error answer; null when it has no usable id. */
function idOf(value: unknown): RpcId | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

/** Parses one line: -32700 when it is not JSON, -32600 when it is JSON but not a JSON-RPC 2.0 message. */
export function parseLine(line: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: errorMessage(null, ErrorCode.ParseError, 'Parse error: the line is not valid JSON (MCP stdio carries one JSON-RPC message per line)') };
  }
  const checked = JSONRPCMessageSchema.safeParse(value);
  if (!checked.success) {
    const what = Array.isArray(value) ? 'a JSON array (JSON-RPC batches are not part of MCP since 2025-06-18)' : 'not a JSON-RPC 2.0 request, notification or response';
    return { ok: false, error: errorMessage(idOf(value), ErrorCode.InvalidRequest, `Invalid Request: the message is ${what}`) };
  }
  return { ok: true, message: value as JSONRPCMessage & Record<string, unknown> };
}

export function serialize(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Splits a byte stream into lines. A line longer than `maxBytes` (the SDK's stdio bound, 10 MiB) is dropped and
 * reported through `onOversized`, so one peer cannot make the proxy hold unbounded memory.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOversized: () => void,
    private readonly maxBytes = STDIO_DEFAULT_MAX_BUFFER_SIZE,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      this.take(chunk.subarray(start, newline), true);
      start = newline + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start), false);
  }

  private take(part: Buffer, ends: boolean): void {
    if (!this.discarding) {
      this.pending.push(part);
      this.pendingBytes += part.length;
      if (this.pendingBytes > this.maxBytes) {
        this.pending = [];
        this.pendingBytes = 0;
        this.discarding = true;
        this.onOversized();
      }
    }
    if (!ends) return;
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const line = Buffer.concat(this.pending, this.pendingBytes).toString('utf8').replace(/\r$/, '');
    this.pending = [];
    this.pendingBytes = 0;
    if (line.trim() !== '') this.onLine(line);
  }
}
