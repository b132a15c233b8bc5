import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCliInProcess } from './cli-in-process.js';

/** A sidecar daemon (a real process) started by a test through the CLI (`sidecar start --detach`, run in-process). */
export interface SidecarProcess {
  pid: number;
  url: string;
  dataDir: string;
}

const started = new Set<number>();

export async function startSidecar(dataDir: string, policy: string, ...flags: string[]): Promise<SidecarProcess> {
  const result = await runCliInProcess(['sidecar', 'start', '--detach', '--port', '0', '--policy', policy, '--data-dir', dataDir, '--json', ...flags]);
  const pidFile = join(dataDir, 'sidecar.pid');
  if (existsSync(pidFile)) started.add((JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  const { pid, url } = JSON.parse(result.stdout) as { pid: number; url: string };
  return { pid, url, dataDir };
}

/** Kills every sidecar started through startSidecar (for afterAll). */
export function killStartedSidecars(): void {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  started.clear();
}

export async function createToken(dataDir: string, ...scope: string[]): Promise<{ id: string; token: string }> {
  const created = await runCliInProcess(['token', 'create', ...scope, '--json', '--data-dir', dataDir]);
  expect(created.code, created.stderr).toBe(0);
  return JSON.parse(created.stdout) as { id: string; token: string };
}

export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
