/**
 * Builds prices/catalog.json, the price catalog shipped in the package, from the LiteLLM price maps in the shared
 * data folder: the newer map merged over the older one (the newer entry wins per model id; ids only in the older map
 * are kept, so models the newer map dropped still have prices). The price data is LiteLLM's, MIT-licensed
 * (BerriAI/litellm); the catalog records that and the maps it came from.
 *
 *   npx tsx scripts/build-prices.ts
 *
 * AGENTGUARD_SHARED_DATA points at the data folder (default ../shared/data from the repository root).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PriceCatalog } from '../src/core/cost/prices.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
/** Oldest first: each map is merged over the ones before it. */
const MAPS = ['model_prices_2025-11-21.json', 'model_prices_2026-07-24.json'];
const OUT = resolve(ROOT, 'prices/catalog.json');

function readMap(name: string): Record<string, unknown> {
  const file = resolve(DATA, name);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`cannot read ${file} (${(error as Error).message}); set AGENTGUARD_SHARED_DATA to the folder holding ${MAPS.join(' and ')}`);
  }
}

/** JSON with object keys sorted at every level, so the file only changes when the prices do. */
function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

const maps = MAPS.map(readMap);
const merged: Record<string, unknown> = Object.assign({}, ...maps);
const catalog = PriceCatalog.fromLiteLlmMap(merged, MAPS.join(' + '));
const file = {
  ...catalog.toFile(),
  generatedFrom: MAPS.map((name, i) => ({ file: basename(name), lastUpdated: typeof maps[i].last_updated === 'string' ? maps[i].last_updated : null })),
};

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, stableJson(file));

const counts = new Map<string, number>();
for (const [, entry] of catalog.entries()) counts.set(entry.provider, (counts.get(entry.provider) ?? 0) + 1);
process.stderr.write(`Wrote ${OUT}: ${catalog.size} models\n`);
for (const [provider, n] of [...counts].sort()) process.stderr.write(`  ${provider.padEnd(10)} ${n}\n`);
