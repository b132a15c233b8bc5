import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

// There is no container engine on the machines that run these tests: the deployment files are checked here as data
// (parsed with the `yaml` package, their key settings asserted), not built or started. docs/fleet.md says so.
const ROOT = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('deployment files', () => {
  it('Dockerfile: multi-stage, runs as a non-root user, health-checks /healthz, starts the sidecar from the store', () => {
    const lines = read('Dockerfile').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const stages = lines.filter((l) => /^FROM /.test(l));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.every((l) => /node:20/.test(l))).toBe(true);
    const afterLastFrom = lines.slice(lines.lastIndexOf(stages[stages.length - 1]));
    const user = afterLastFrom.find((l) => /^USER /.test(l));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/root|\b0\b/);
    expect(afterLastFrom.join('\n')).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(afterLastFrom.join('\n')).toMatch(/--policy-from-store/);
    expect(read('Dockerfile')).not.toMatch(/AGENTGUARD_STORE_URL=postgres/); // no credentials baked in
  });

  it('docker-compose.yml: PostgreSQL and two sidecars with their own chains, readiness health checks, secrets for the URL', () => {
    const compose = parse(read('deploy/docker-compose.yml'), { merge: true }) as { services: Record<string, any>; secrets: Record<string, unknown> };
    expect(compose.services.db.image).toMatch(/^postgres:15/);
    const sidecars = ['sidecar-a', 'sidecar-b'].map((name) => compose.services[name]);
    for (const s of sidecars) {
      expect(s.command).toContain('--policy-from-store');
      expect(s.healthcheck.test.join(' ')).toMatch(/\/readyz/);
      expect(s.secrets).toContain('store-url');
      expect(s.depends_on.db.condition).toBe('service_healthy');
      expect(JSON.stringify(s)).not.toMatch(/postgres(ql)?:\/\/[^@"]*:[^@"]*@/); // no password in the file
    }
    expect(new Set(sidecars.map((s) => s.environment.AGENTGUARD_STORE_CHAIN)).size).toBe(2);
    expect(Object.keys(compose.secrets)).toEqual(expect.arrayContaining(['db-password', 'store-url']));
  });

  it('Kubernetes: the sidecar next to the agent, readiness /readyz, liveness /healthz, Prometheus annotations, token and URL from Secrets', () => {
    const docs = parseAllDocuments(read('deploy/kubernetes/agent-with-sidecar.yaml')).map((d) => d.toJS() as any);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const pod = deployment.spec.template;
    expect(pod.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    const sidecar = pod.spec.containers.find((c: any) => c.name === 'agentguard');
    const agent = pod.spec.containers.find((c: any) => c.name !== 'agentguard');
    expect(sidecar.readinessProbe.httpGet.path).toBe('/readyz');
    expect(sidecar.livenessProbe.httpGet.path).toBe('/healthz');
    expect(sidecar.args).toContain('--policy-from-store');
    const env = (c: any, name: string) => c.env.find((e: any) => e.name === name);
    expect(env(sidecar, 'AGENTGUARD_STORE_URL').valueFrom.secretKeyRef).toBeDefined();
    expect(env(agent, 'AGENTGUARD_TOKEN').valueFrom.secretKeyRef).toBeDefined();
    expect(sidecar.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });
});
