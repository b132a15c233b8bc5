import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { runStdioGateway, type StdioGatewayOptions } from '../../src/mcp/gateway.js';

/** The client's end of the gateway's stdio, as an MCP SDK transport (the gateway runs in this process). */
class StreamTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly buffer = new ReadBuffer();
  constructor(
    private readonly toGateway: PassThrough,
    private readonly fromGateway: PassThrough,
  ) {}
  async start(): Promise<void> {
    this.fromGateway.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (let message = this.buffer.readMessage(); message !== null; message = this.buffer.readMessage()) this.onmessage?.(message);
    });
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.toGateway.write(serializeMessage(message));
  }
  async close(): Promise<void> {
    this.toGateway.end();
    this.onclose?.();
  }
}

/** The gateway's options without its stdio ends (distributed over the child-process and HTTP-upstream variants). */
type GatewayOptions<T = StdioGatewayOptions> = T extends StdioGatewayOptions ? Omit<T, 'input' | 'output' | 'log'> & { log?: (message: string) => void } : never;

/**
 * A real MCP SDK client connected through the stdio gateway run in this process (the server is a real child process,
 * or with `upstream`, a Streamable HTTP server).
 * `done` resolves with the server's exit code once the client closed and the gateway finished.
 */
export async function connectThroughGateway(
  options: GatewayOptions,
  clientName: string,
  clientOptions?: ConstructorParameters<typeof Client>[1],
  setup?: (client: Client) => void,
): Promise<{ client: Client; done: Promise<number> }> {
  const input = new PassThrough();
  const output = new PassThrough();
  const done = runStdioGateway({ log: () => undefined, ...options, input, output } as StdioGatewayOptions);
  const client = new Client({ name: clientName, version: '1.0.0' }, clientOptions);
  setup?.(client);
  await client.connect(new StreamTransport(input, output));
  return { client, done };
}
