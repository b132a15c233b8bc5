import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SQL_LENGTH, MAX_SQL_TOKENS, parseSql, sqlTokenCount, type SqlView } from '../src/core/policy/views/sql.js';

describe('sql view: functions', () => {
  it.each([
    [`SELECT "pg_read_file"('/etc/hostname')`, 'pg_read_file'],
    [`SELECT pg_read_file/**/('/etc/hostname')`, 'pg_read_file'],
    [`SELECT PG_SLEEP(1)`, 'pg_sleep'],
    [`SELECT pg_catalog.pg_sleep(1)`, 'pg_catalog.pg_sleep'],
    [`SELECT "pg_catalog"."pg_read_file"('x')`, 'pg_catalog.pg_read_file'],
    [`SELECT utl_http.request('http://x') FROM dual`, 'utl_http.request'],
    [`SELECT * FROM OPENROWSET('a', 'b', 'c')`, 'openrowset'],
    [`SELECT * FROM pg_ls_dir('.')`, 'pg_ls_dir'],
    [`SELECT id FROM t WHERE id IN (SELECT pg_sleep(1))`, 'pg_sleep'],
    [`SELECT pg_read_file('x')::text`, 'pg_read_file'],
    [`SELECT CASE WHEN pg_sleep(1) IS NULL THEN 1 END`, 'pg_sleep'],
    [`SELECT ARRAY[pg_sleep(1)]`, 'pg_sleep'],
    [`SELECT a FROM t UNION SELECT pg_sleep(1)`, 'pg_sleep'],
    [`SELECT * FROM t ORDER BY pg_sleep(1)`, 'pg_sleep'],
  ])('%s calls %s', (sql, fn) => {
    expect(parseSql(sql).functions).toContain(fn);
  });

  it('lists nested calls and aggregates', () => {
    expect(parseSql(`SELECT lo_put(lo_create(0), 0, 'x')`).functions.sort()).toEqual(['lo_create', 'lo_put']);
    expect(parseSql('SELECT count(*), sum(a), row_number() OVER (ORDER BY a) FROM t').functions.sort()).toEqual(['count', 'row_number', 'sum']);
  });

  it('words in strings and comments are not calls', () => {
    expect(parseSql(`SELECT 'pg_sleep(1)' -- pg_read_file('x')\nFROM t`).functions).toEqual([]);
  });
});

describe('sql view: statements and tables', () => {
  const view = (sql: string): SqlView => parseSql(sql);

  it('reads are select; writes anywhere show in kinds', () => {
    expect(view('SELECT 1').statements).toEqual(['select']);
    expect(view('EXPLAIN ANALYZE DELETE FROM users')).toMatchObject({ statements: ['explain'], kinds: expect.arrayContaining(['delete', 'explain']) });
    expect(view('CREATE TABLE x AS SELECT 1').kinds).toEqual(expect.arrayContaining(['create', 'select']));
    expect(view('INSERT INTO t SELECT * FROM u').kinds).toEqual(expect.arrayContaining(['insert', 'select']));
  });

  it('SELECT … INTO, locking reads and stacked statements are flagged', () => {
    expect(view('SELECT * INTO b FROM t').into).toBe(true);
    expect(view('SELECT * FROM t').into).toBe(false);
    expect(parseSql("SELECT * FROM t INTO OUTFILE '/tmp/x'", 'mysql').into).toBe(true);
    expect(parseSql('SELECT * FROM t FOR UPDATE', 'mysql').locking).toBe(true);
    expect(parseSql('SELECT * FROM t LOCK IN SHARE MODE', 'mysql').locking).toBe(true);
    expect(view('SELECT 1; SELECT 2').stacked).toBe(true);
    expect(view('SELECT 1;').stacked).toBe(false);
    expect(view('SELECT 1 /*!50000DROP TABLE users*/').executableComment).toBe(true);
  });

  it('tables, lower case, with and without their schema, from subqueries and CTEs', () => {
    expect(view('SELECT * FROM "public"."Users"').tables.sort()).toEqual(['public.users', 'users']);
    expect(view('SELECT (SELECT email FROM customers LIMIT 1)').tables).toEqual(['customers']);
    expect(view('WITH u AS (SELECT * FROM users) SELECT * FROM u').tables).toContain('users');
  });
});

describe('sql view: input it refuses', () => {
  it.each([
    'SELECT * FROM U&"\\0075sers"',
    'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    'SELECT * FROM t FOR UPDATE',
    "COPY t TO '/tmp/x'",
    'SELECT FROM WHERE (',
  ])('the postgresql parser rejects %j, with a message', (sql) => {
    expect(() => parseSql(sql)).toThrow(/not SQL the postgresql parser accepts/);
  });

  it('throws for SQL longer than the limit', () => {
    expect(() => parseSql(`SELECT ${'1+'.repeat(MAX_SQL_LENGTH)}1`)).toThrow(/longer than the 8192/);
  });

  it('throws for more tokens than the parser may read; a string literal is one token', () => {
    expect(MAX_SQL_TOKENS).toBe(1000);
    expect(() => parseSql(`SELECT ${'a, '.repeat(500)}a FROM t`)).toThrow(/more than 1000 tokens/);
    expect(sqlTokenCount(`SELECT '${"it''s a b c ".repeat(300)}'`)).toBe(2);
    expect(parseSql(`SELECT '${'a b c '.repeat(300)}' FROM t`).tables).toEqual(['t']);
  });

  it('property: any text either gives a view or an Error with a message', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60, unit: fc.constantFrom(...'SELECT FROM * ();,\'"`/-!#$U&\\abc1=.') }), (sql) => {
        let v: SqlView;
        try {
          v = parseSql(sql);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message.length).toBeGreaterThan(0);
          return;
        }
        expect(Array.isArray(v.functions) && Array.isArray(v.kinds)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
