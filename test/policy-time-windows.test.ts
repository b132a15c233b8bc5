import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { openEngine, type Engine } from '../src/core/engine/open-engine.js';
import type { PolicyError } from '../src/core/policy/policy-error.js';
import { Policy } from '../src/core/policy/policy.js';
import { compileTimeWindow } from '../src/core/policy/time-window.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: hours
rules:
  - id: business-hours
    effect: allow
    when: { name: deploy, time: { days: [mon, tue, wed, thu, fri], between: ["09:00", "18:00"], timezone: Europe/Berlin } }
  - id: no-friday-afternoon
    effect: deny
    when: { name: deploy, time: { days: [fri], between: ["14:00", "24:00"], timezone: Europe/Berlin } }
  - id: night-batch
    effect: allow
    when: { name: batch.run, time: { days: [sat], between: ["22:00", "02:00"], timezone: America/New_York } }
`;
const DEPLOY: Action = { kind: 'tool', name: 'deploy' };
const BATCH: Action = { kind: 'tool', name: 'batch.run' };

const open: Engine[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function effectAt(iso: string, action: Action): Promise<string> {
  const e = await openEngine({ policy: Policy.parse(POLICY), record: false, now: () => new Date(iso) });
  open.push(e);
  return (await e.decide(action)).effect;
}

describe('time windows', () => {
  it('are read on the zone\'s wall clock on both sides of a DST change (Europe/Berlin: 29 March and 25 October 2026)', async () => {
    // Friday 27 March 2026, CET (UTC+1): 09:00 local is 08:00Z.
    expect(await effectAt('2026-03-27T07:59:59Z', DEPLOY)).toBe('deny');
    expect(await effectAt('2026-03-27T08:00:00Z', DEPLOY)).toBe('allow');
    // Monday 30 March 2026, CEST (UTC+2) since Sunday: 09:00 local is 07:00Z, 18:00 local is 16:00Z.
    expect(await effectAt('2026-03-30T06:59:59Z', DEPLOY)).toBe('deny');
    expect(await effectAt('2026-03-30T07:00:00Z', DEPLOY)).toBe('allow');
    expect(await effectAt('2026-03-30T15:59:59Z', DEPLOY)).toBe('allow');
    expect(await effectAt('2026-03-30T16:00:00Z', DEPLOY)).toBe('deny');
    // Monday 26 October 2026, back on CET: 09:00 local is 08:00Z again.
    expect(await effectAt('2026-10-26T07:30:00Z', DEPLOY)).toBe('deny');
    expect(await effectAt('2026-10-26T08:00:00Z', DEPLOY)).toBe('allow');
  });

  it('deny wins inside the Friday-afternoon window; the window ending at 24:00 closes at local midnight', async () => {
    expect(await effectAt('2026-03-27T12:59:00Z', DEPLOY)).toBe('allow'); // 13:59 CET
    expect(await effectAt('2026-03-27T13:00:00Z', DEPLOY)).toBe('deny'); // 14:00 CET
    expect(await effectAt('2026-03-27T22:59:59Z', DEPLOY)).toBe('deny'); // 23:59:59 CET, Friday
  });

  it('a window crossing midnight belongs to the day it opens on (Saturday 22:00 to Sunday 02:00, New York)', async () => {
    // Saturday 7 March 2026, EST (UTC-5).
    expect(await effectAt('2026-03-08T02:59:00Z', BATCH)).toBe('deny'); // Sat 21:59
    expect(await effectAt('2026-03-08T03:00:00Z', BATCH)).toBe('allow'); // Sat 22:00
    // Sunday 8 March 2026 is the US spring-forward day: 02:00 EST never happens, 01:59 EST is 06:59Z.
    expect(await effectAt('2026-03-08T06:59:00Z', BATCH)).toBe('allow'); // Sun 01:59 EST
    expect(await effectAt('2026-03-08T07:00:00Z', BATCH)).toBe('deny'); // Sun 03:00 EDT: the window has closed
    // Friday night does not open it.
    expect(await effectAt('2026-03-07T03:30:00Z', BATCH)).toBe('deny'); // Fri 22:30
  });

  it('the repeated hour of a fall-back day counts twice: both 01:30 of 1 November 2026 in New York are inside 01:00–02:00', () => {
    const w = compileTimeWindow({ between: ['01:00', '02:00'], timezone: 'America/New_York' }, []);
    expect(w.contains(Date.parse('2026-11-01T05:30:00Z'))).toBe(true); // 01:30 EDT
    expect(w.contains(Date.parse('2026-11-01T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(w.contains(Date.parse('2026-11-01T07:00:00Z'))).toBe(false); // 02:00 EST
  });

  it('matches the wall clock as luxon reads it for any instant and zone (property)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2030-12-31T00:00:00Z') }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 24 }),
        (ms, zone, startHour, endHour) => {
          fc.pre(startHour !== endHour);
          const between: [string, string] = [`${String(startHour).padStart(2, '0')}:00`, `${String(endHour).padStart(2, '0')}:00`];
          const w = compileTimeWindow({ days: ['mon', 'wed', 'sat'], between, timezone: zone }, []);
          const local = DateTime.fromMillis(ms, { zone });
          const openDay = (d: number) => [1, 3, 6].includes(d);
          const expected =
            startHour < endHour
              ? local.hour >= startHour && local.hour < endHour && openDay(local.weekday)
              : (local.hour >= startHour && openDay(local.weekday)) || (local.hour < endHour && openDay(local.minus({ days: 1 }).weekday));
          expect(w.contains(ms)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('explain shows the window and its result at the engine\'s time', async () => {
    const e = await openEngine({ policy: Policy.parse(POLICY), record: false, now: () => new Date('2026-03-30T07:00:00Z') });
    open.push(e);
    const trace = e.explain(DEPLOY).find((t) => t.id === 'business-hours')!;
    expect(trace.matched).toBe(true);
    expect(JSON.stringify(trace.conditions)).toContain('time mon,tue,wed,thu,fri 09:00–18:00 Europe/Berlin');
  });

  it('refuses an unknown zone, an impossible time and an empty window, with their places', () => {
    const problems = (when: string) => {
      try {
        Policy.parse(`version: 1\nname: x\nrules:\n  - { id: r, effect: allow, when: ${when} }`);
        return '';
      } catch (error) {
        return (error as PolicyError).problems.map((p) => `${p.path}: ${p.message}`).join('\n');
      }
    };
    expect(problems('{ time: { timezone: Europe/Berlim } }')).toMatch(/rules\[0\]\.when\.time\.timezone: unknown time zone "Europe\/Berlim"/);
    expect(problems('{ time: { between: ["9:00", "18:00"] } }')).toMatch(/rules\[0\]\.when\.time\.between\[0\]/);
    expect(problems('{ time: { between: ["25:00", "18:00"] } }')).toMatch(/rules\[0\]\.when\.time\.between\[0\]/);
    expect(problems('{ time: { between: ["09:00", "09:00"] } }')).toMatch(/opens and closes at the same time/);
    expect(problems('{ time: { days: [fry] } }')).toMatch(/rules\[0\]\.when\.time\.days\[0\]/);
    expect(problems('{ time: {} }')).toMatch(/rules\[0\]\.when\.time/);
  });

  it('policy test decides each case at its own `at`, else at --at; a time that cannot be read is reported at its line', async () => {
    const dir = makeTempDir('ag-time-test-');
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    writeFileSync(
      join(dir, 'policy.test.yaml'),
      `policy: ./policy.yaml
cases:
  - name: monday morning after the change to summer time
    at: "2026-03-30T07:00:00Z"
    action: { kind: tool, name: deploy }
    expect: { effect: allow, rule: business-hours }
  - name: friday afternoon
    at: "2026-03-27T16:30:00+01:00"
    action: { kind: tool, name: deploy }
    expect: { effect: deny, rule: no-friday-afternoon }
  - name: at the time --at gives
    action: { kind: tool, name: deploy }
    expect: { effect: allow }
`,
    );
    const atNoon = await runCliInProcess(['policy', 'test', 'policy.test.yaml', '--at', '2026-03-31T10:00:00Z', '--json'], { cwd: dir });
    expect(atNoon.code, atNoon.stdout + atNoon.stderr).toBe(0);
    const atNight = await runCliInProcess(['policy', 'test', 'policy.test.yaml', '--at', '2026-03-31T23:00:00Z'], { cwd: dir });
    expect(atNight.code).toBe(1);
    expect(atNight.stdout).toContain('at the time --at gives');
    writeFileSync(join(dir, 'bad.test.yaml'), 'policy: ./policy.yaml\ncases:\n  - name: x\n    at: "friday"\n    action: { kind: tool, name: deploy }\n    expect: { effect: deny }\n');
    const bad = await runCliInProcess(['policy', 'test', 'bad.test.yaml'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).toMatch(/bad\.test\.yaml:4:\d+.*"friday" is not a time/);
  }, 60_000);
});
