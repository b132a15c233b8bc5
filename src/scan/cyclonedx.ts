/**
 * The scan as a CycloneDX 1.6 AI bill of materials: agents (projects, processes, agent servers) and MCP servers as
 * applications, frameworks and SDKs as libraries with purls, model servers as platforms with their models.
 * Only chosen, secret-free facts of a finding become properties: `details` is never copied wholesale.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Enums, Models, Serialize, Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { maskStrings } from '../core/agents/report-mask.js';
import type { ScanFinding } from './types.js';

const NS = 'agentguard';

export async function toCycloneDx(unmasked: ScanFinding[], meta: { toolVersion: string; timestamp: Date }): Promise<object> {
  const findings = maskStrings(unmasked);
  const tool = new Models.Component(Enums.ComponentType.Application, 'agentguard', { version: meta.toolVersion });
  const bom = new Models.Bom({
    serialNumber: `urn:uuid:${randomUUID()}`,
    metadata: new Models.Metadata({
      timestamp: meta.timestamp,
      tools: new Models.Tools({ components: new Models.ComponentRepository([tool]) }),
    }),
  });
  const libraries = new Map<string, Models.Component>();
  const addComponent = (c: Models.Component) => bom.components.add(c);

  for (const finding of findings) {
    const main = new Models.Component(componentType(finding), finding.name, {
      bomRef: finding.id,
      properties: new Models.PropertyRepository(findingProperties(finding)),
    });
    addComponent(main);

    for (const lib of librariesOf(finding)) {
      const known = libraries.get(lib.bomRef.value!);
      const component = known ?? lib;
      if (!known) {
        libraries.set(lib.bomRef.value!, lib);
        addComponent(lib);
      }
      main.dependencies.add(component.bomRef);
    }

    if (finding.kind === 'model-server') {
      for (const model of modelNames(finding.details.models)) {
        const ml = new Models.Component(Enums.ComponentType.MachineLearningModel, model, {
          bomRef: `${finding.id}#model:${model}`,
          properties: new Models.PropertyRepository([new Models.Property(`${NS}:servedBy`, finding.location)]),
        });
        addComponent(ml);
        main.dependencies.add(ml.bomRef);
      }
    }
  }

  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return JSON.parse(serializer.serialize(bom, { sortLists: true })) as object;
}

function componentType(finding: ScanFinding): Enums.ComponentType {
  // CycloneDX has no "server" type; a model server is the platform its models run on.
  return finding.kind === 'model-server' ? Enums.ComponentType.Platform : Enums.ComponentType.Application;
}

/** Whitelisted detail keys whose values are facts, not configuration that might carry secrets. */
const SAFE_DETAILS: Record<string, (v: unknown) => string | undefined> = {
  pid: scalar,
  port: scalar,
  transport: scalar,
  client: scalar,
  configPath: scalar,
  path: scalar,
  languages: list,
  dependencyFiles: list,
  // Only the executable: arguments may hold tokens (`--api-key …`), and so may a leading `KEY=value`.
  command: (v) => {
    const executable = typeof v === 'string' ? v.trim().split(/\s+/)[0] : '';
    return executable && !executable.includes('=') ? executable : undefined;
  },
};

function findingProperties(f: ScanFinding): Models.Property[] {
  const props = [
    new Models.Property(`${NS}:id`, f.id),
    new Models.Property(`${NS}:kind`, f.kind),
    new Models.Property(`${NS}:status`, f.status),
    new Models.Property(`${NS}:risk`, f.risk),
    new Models.Property(`${NS}:location`, f.location),
    ...f.evidence.map((e) => new Models.Property(`${NS}:evidence`, e)),
    ...f.notes.map((n) => new Models.Property(`${NS}:note`, n)),
    ...f.frameworks.map((fw) => new Models.Property(`${NS}:framework`, fw.version ? `${fw.name} ${fw.version}` : fw.name)),
  ];
  for (const [key, render] of Object.entries(SAFE_DETAILS)) {
    const value = render(f.details[key]);
    if (value !== undefined) props.push(new Models.Property(`${NS}:${key}`, value));
  }
  return props;
}

interface PackageRef {
  ecosystem: 'npm' | 'pypi';
  name: string;
  framework?: string;
  declared?: string;
  version?: string;
}

/** Libraries of a finding: its packages with purls when it lists them (projects), else its framework names. */
function librariesOf(f: ScanFinding): Models.Component[] {
  const packages = Array.isArray(f.details.packages) ? (f.details.packages as unknown[]).filter(isPackageRef) : [];
  if (packages.length > 0) {
    return packages.map((p) => {
      const purl = purlOf(p);
      const props = [new Models.Property(`${NS}:ecosystem`, p.ecosystem)];
      if (p.framework) props.push(new Models.Property(`${NS}:framework`, p.framework));
      if (p.declared) props.push(new Models.Property(`${NS}:declared`, p.declared));
      const scoped = p.ecosystem === 'npm' && p.name.startsWith('@') ? p.name.split('/') : undefined;
      return new Models.Component(Enums.ComponentType.Library, scoped ? scoped[1] : p.name, {
        bomRef: purl,
        purl,
        group: scoped?.[0],
        version: p.version,
        properties: new Models.PropertyRepository(props),
      });
    });
  }
  return f.frameworks.map(
    (fw) =>
      new Models.Component(Enums.ComponentType.Library, fw.name, {
        bomRef: `${NS}:framework:${fw.name}${fw.version ? `@${fw.version}` : ''}`,
        version: fw.version,
      }),
  );
}

function isPackageRef(v: unknown): v is PackageRef {
  const p = v as PackageRef;
  return typeof p === 'object' && p !== null && (p.ecosystem === 'npm' || p.ecosystem === 'pypi') && typeof p.name === 'string';
}

/** `pkg:npm/%40langchain/core@0.3.0`, `pkg:pypi/crewai@0.1`; the version only when exact. */
export function purlOf(p: { ecosystem: 'npm' | 'pypi'; name: string; version?: string }): string {
  const name =
    p.ecosystem === 'pypi'
      ? encodeURIComponent(p.name.toLowerCase().replace(/[-_.]+/g, '-'))
      : p.name.split('/').map(encodeURIComponent).join('/');
  return `pkg:${p.ecosystem}/${name}${p.version ? `@${encodeURIComponent(p.version)}` : ''}`;
}

function modelNames(models: unknown): string[] {
  if (!Array.isArray(models)) return [];
  const names = models.map((m) => {
    if (typeof m === 'string') return m;
    const o = m as Record<string, unknown> | null;
    const name = o?.name ?? o?.id ?? o?.model;
    return typeof name === 'string' ? name : undefined;
  });
  return [...new Set(names.filter((n): n is string => !!n))];
}

function scalar(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}
function list(v: unknown): string | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') && v.length > 0 ? v.join(', ') : undefined;
}

// ---------- validation ----------

/** Validates a CycloneDX 1.6 JSON document with the library's own validator: null when valid, else its errors. */
export async function validateCycloneDx(json: string): Promise<null | unknown> {
  return new Validation.JsonValidator(Spec.Version.v1dot6).validate(json);
}
