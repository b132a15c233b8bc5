/** The policy and request bodies both sidecar bench sections send: an allow, a deny by regex, an allow by name. */
export const POLICY = `version: 1
name: bench-sidecar
default: deny
rules:
  - id: kb
    effect: allow
    when: { name: { glob: "kb.*" } }
  - id: no-drop
    effect: deny
    when: { name: db.query, input.sql: { regex: '^\\s*drop\\b', flags: i } }
  - id: sql
    effect: allow
    when: { name: db.query }
`;

export const BODIES = [
  { kind: 'tool', name: 'kb.search', input: { query: 'refund window', limit: 10 } },
  { kind: 'tool', name: 'db.query', input: { sql: 'SELECT * FROM orders WHERE id = 7' } },
  { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE orders' } },
].map((action) => JSON.stringify({ action }));
