import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken } from '../src/core/tokens/tokens.js';
import { RotatingFile } from '../src/sidecar/log/rotating-file.js';
import { loggedPath, LineBudget } from '../src/sidecar/log/access-log.js';
import { startSidecarServer } from '../src/sidecar/server.js';
import { tempDataDir } from './helpers/audit-log.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { bearer, hardeningSidecar, type HardeningHarness } from './helpers/hardening-sidecar.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = fileURLToPath(new URL('./fixtures/sidecar/policy.yaml', import.meta.url));
const FAKE_TOKEN = `agk_${'A'.repeat(43)}`;

const folders: string[] = [];
const open: HardeningHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

function folder(): string {
  const f = makeTempDir('ag-log-');
  folders.push(f);
  return f;
}

describe('sidecar.log rotates by size', () => {
  it('keeps at most `files` old files of at most maxBytes each, in order, oldest dropped', async () => {
    const dir = folder();
    const file = join(dir, 'sidecar.log');
    const log = new RotatingFile(file, { maxBytes: 4096, files: 2 });
    for (let i = 0; i < 1000; i++) log.write(`${JSON.stringify({ level: 30, n: i, msg: 'x'.repeat(40) })}\n`);
    log.end();
    expect(log.write('{"late":true}\n')).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['sidecar.log', 'sidecar.log.1', 'sidecar.log.2']);
    const numbers: number[] = [];
    for (const name of ['sidecar.log.2', 'sidecar.log.1', 'sidecar.log']) {
      expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(4096);
      for (const line of readFileSync(join(dir, name), 'utf8').trim().split('\n')) numbers.push(JSON.parse(line).n);
    }
    expect(numbers.at(-1)).toBe(999);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1] + 1);
    expect(numbers[0]).toBeGreaterThan(0);
  });

  it('what the process writes to stderr on the same file (sidecar start --detach) stays in sidecar.log after a rotation', async () => {
    const dir = folder();
    const file = join(dir, 'sidecar.log');
    const log = new RotatingFile(file, { maxBytes: 2048, files: 1 });
    const stderr = openSync(file, 'a');
    try {
      for (let i = 0; i < 100; i++) log.write(`${JSON.stringify({ n: i, msg: 'y'.repeat(30) })}\n`);
      writeSync(stderr, 'Warning: from stderr\n');
    } finally {
      closeSync(stderr);
      log.end();
    }
    expect(readFileSync(file, 'utf8')).toContain('Warning: from stderr');
    expect(readFileSync(`${file}.1`, 'utf8')).not.toContain('Warning: from stderr');
  });

  it('replaces a line longer than maxLineBytes by one that keeps its level, time and the start of its message', async () => {
    const dir = folder();
    const file = join(dir, 'sidecar.log');
    const log = new RotatingFile(file, { maxBytes: 1 << 20, maxLineBytes: 1024 });
    log.write(`${JSON.stringify({ level: 50, time: 1, msg: `boom ${'y'.repeat(5000)}`, err: { stack: 'z'.repeat(100_000) } })}\n`);
    log.end();
    const line = readFileSync(file, 'utf8');
    expect(line.length).toBeLessThan(1024);
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ level: 50, time: 1 });
    expect(parsed.msg.startsWith('boom yyy')).toBe(true);
    expect(parsed.truncated).toBeGreaterThan(100_000);
  });

  it('`sidecar logs -n` reads back into the rotated files', async () => {
    const dataDir = join(folder(), 'data');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'sidecar.log.2'), '{"n":1}\n{"n":2}\n');
    writeFileSync(join(dataDir, 'sidecar.log.1'), '{"n":3}\n{"n":4}\n');
    writeFileSync(join(dataDir, 'sidecar.log'), '{"n":5}\n');
    const three = await runCliInProcess(['sidecar', 'logs', '-n', '3', '--json', '--data-dir', dataDir]);
    expect(three.code, three.stderr).toBe(0);
    expect(JSON.parse(three.stdout).lines).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
    const all = JSON.parse((await runCliInProcess(['sidecar', 'logs', '--json', '--data-dir', dataDir])).stdout);
    expect(all.lines).toHaveLength(5);
  });
});

describe('the access log', () => {
  async function withLogs(options: Parameters<typeof hardeningSidecar>[0] = {}): Promise<HardeningHarness> {
    const h = await hardeningSidecar({ withLogs: true, ...options });
    open.push(h);
    return h;
  }

  it('logs paths without their query string, so a token sent as ?token= is never written', async () => {
    const h = await withLogs();
    await h.app.inject({ method: 'GET', url: `/v1/audit?token=${h.admin}` });
    await h.app.inject({ method: 'GET', url: `/v1/audit?limit=5&access_token=${h.bot}`, headers: { authorization: 'Bearer nope' } });
    await h.app.inject({ method: 'GET', url: `/nothing/${FAKE_TOKEN}?x=1` });
    const text = h.logs.join('');
    expect(text).toContain('"path":"/v1/audit"');
    expect(text).not.toContain(h.admin.slice(4));
    expect(text).not.toContain(h.bot.slice(4));
    expect(text).not.toContain('A'.repeat(43));
    expect(text).not.toContain('token=');
  });

  it('caps the logged path at 200 characters', async () => {
    expect(loggedPath(`/${'a'.repeat(100_000)}?q=1`).length).toBeLessThanOrEqual(202);
  });

  it('is rate-limited: a flood of junk requests writes a bounded number of lines, and the rest are counted', async () => {
    const h = await withLogs({ accessLogRate: { perSecond: 5, burst: 20 } });
    for (let i = 0; i < 300; i++) await h.app.inject({ method: 'GET', url: `/junk/${i}` });
    const requestLines = h.logs.filter((l) => l.includes('"msg":"request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(20);
    expect(requestLines.length).toBeLessThan(100);
    await h.app.close();
    const summary = h.logs.map((l) => JSON.parse(l)).filter((l) => typeof l.dropped === 'number');
    expect(summary.reduce((n, l) => n + l.dropped, 0) + requestLines.length).toBe(300);
  });

  it('LineBudget refills at its rate', async () => {
    let now = 0;
    const budget = new LineBudget(10, 5, () => now);
    expect(Array.from({ length: 10 }, () => budget.take()).filter(Boolean)).toHaveLength(5);
    now += 1000;
    expect(Array.from({ length: 20 }, () => budget.take()).filter(Boolean)).toHaveLength(5);
  });
});

describe('secrets never appear in error messages', () => {
  it('a malformed body is not quoted back; an unknown field or path shaped like a token is masked', async () => {
    const h = await hardeningSidecar();
    open.push(h);
    const secret = 'sk-proj-' + 'Q'.repeat(40);
    for (const body of [`{"action": ${secret}}`, `${FAKE_TOKEN}`, `{"action":{"kind":"tool","name":"x"}, "${secret}": 1}`]) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/decide', headers: { ...bearer(h.bot), 'content-type': 'application/json' }, payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('QQQQQQQQ');
      expect(res.body).not.toContain('A'.repeat(20));
    }
    const notFound = await h.app.inject({ method: 'GET', url: `/v1/${FAKE_TOKEN}` });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.body).not.toContain('A'.repeat(20));
  });
});

describe('junk requests cannot fill the disk through sidecar.log', () => {
  it('a flood of unauthenticated requests with long URLs leaves the log within its rotation bound', async () => {
    const dataDir = tempDataDir('ag-flood-');
    const root = dirname(dataDir);
    folders.push(root);
    const policyPath = join(root, 'policy.yaml');
    copyFileSync(POLICY, policyPath);
    const maxBytes = 64 * 1024;
    const running = await startSidecarServer({ dataDir, policyPath, host: '127.0.0.1', port: 0, log: { maxBytes, files: 2 } });
    await createToken(running.recorder.store.tokens, { scope: { kind: 'admin' } });
    try {
      const long = 'x'.repeat(8000);
      const send = (path: string) =>
        new Promise<void>((resolve) => {
          const req = request({ host: '127.0.0.1', port: running.pid.port, path, headers: { host: 'localhost', authorization: 'Bearer agk_junk' } }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', () => resolve());
          req.end();
        });
      for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 50 }, (_, i) => send(`/v1/audit/${long}${round}-${i}?token=${FAKE_TOKEN}`)));
      // Any line that quotes a token (an error about a request, say) has it masked.
      running.app.log.error({ detail: `failed for ${FAKE_TOKEN}` }, `request with ${FAKE_TOKEN} failed`);
    } finally {
      await running.stop('test');
    }
    const files = readdirSync(dataDir).filter((f) => f.startsWith('sidecar.log'));
    const total = files.reduce((n, f) => n + statSync(join(dataDir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(3 * maxBytes);
    for (const f of files) expect(readFileSync(join(dataDir, f), 'utf8')).not.toContain('A'.repeat(43));
    expect(readFileSync(join(dataDir, 'sidecar.log'), 'utf8')).toContain('failed for agk_[MASKED]');
    expect(existsSync(join(dataDir, 'sidecar.log'))).toBe(true);
  });
});
