import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clientSessionId } from '../src/mcp/client-session.js';

describe('the session id mcp wrap shares among the servers of one MCP client', () => {
  it('is the same for the same client process, differs for another, and is absent for a process that does not exist', async () => {
    const mine = clientSessionId(process.pid);
    expect(mine).toMatch(/^client_[0-9a-f]{24}$/);
    expect(clientSessionId(process.pid)).toBe(mine);
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    try {
      const theirs = clientSessionId(other.pid!);
      expect(theirs).toMatch(/^client_[0-9a-f]{24}$/);
      expect(theirs).not.toBe(mine);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    expect(clientSessionId(2 ** 22 + 12345)).toBeUndefined();
    expect(clientSessionId(1)).toBeUndefined();
  });
});
