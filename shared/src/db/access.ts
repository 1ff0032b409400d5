import type pg from 'pg';
import declaration from '../../database-access.json' with { type: 'json' };

/**
 * Least privilege inside PostgreSQL (docs/security.md, "Database logins"): one login per service, granted only what
 * shared/database-access.json lists. This module turns that one declaration into SQL, for the database stack's
 * logins function (roles, memberships, ownership) and for every service's DDL path (grants on what it created).
 */
interface LoginAccess {
  session?: string;
  ddl?: string;
  read?: string[];
  write?: string[];
  erase?: string[];
}

export const MIGRATOR = declaration.migrator;
export const INGEST = declaration.ingest;
const LOGINS: Record<string, LoginAccess> = declaration.logins;
const PRIVILEGES = { read: ['SELECT'], write: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], erase: ['SELECT', 'DELETE'] } as const;

/** The services that connect to PostgreSQL, each with a login (and a secret) of its own. */
export const SERVICES = Object.keys(LOGINS);
export const loginOf = (service: string) => `dataharvest_${service}`;

/**
 * What a login may do, or undefined for one the declaration does not name (the master, a test's superuser).
 * Multi-user rotation alternates between the login and `<login>_clone`, a member of it.
 */
export function accessOf(username: string): { login: string; session?: string; ddl: string } | undefined {
  const login = username.replace(/_clone$/, '');
  const service = SERVICES.find((s) => loginOf(s) === login);
  if (!service) return undefined;
  const { session, ddl } = LOGINS[service]!;
  return { login, session, ddl: ddl ?? session ?? MIGRATOR };
}

/** A name as declared: exact, or with * for any characters (table names are plain identifiers). */
const matches = (pattern: string, table: string) => new RegExp(`^${pattern.replaceAll('*', '.*')}$`).test(table);

/** Every (table, login, privilege) the declaration grants on these tables. */
export function grantsOn(tables: readonly string[]): Array<{ table: string; login: string; privilege: string }> {
  return Object.entries(LOGINS).flatMap(([service, access]) =>
    (Object.keys(PRIVILEGES) as Array<keyof typeof PRIVILEGES>).flatMap((kind) =>
      tables.filter((t) => (access[kind] ?? []).some((p) => matches(p, t))).flatMap((table) => PRIVILEGES[kind].map((privilege) => ({ table, login: loginOf(service), privilege }))),
    ),
  );
}

/**
 * Grants what the declaration lists on the tables and views the current role owns (a service's DDL path runs this
 * as the owner, right after its CREATE … IF NOT EXISTS), only where a grant is missing.
 */
export async function applyGrants(db: pg.ClientBase): Promise<void> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p', 'v')
       AND NOT relispartition AND relowner = current_user::regrole`,
  );
  const wanted = grantsOn(rows.map((r) => r.name));
  const { rows: missing } = await db.query<{ t: string; l: string; p: string }>(
    `SELECT t, l, p FROM unnest($1::text[], $2::text[], $3::text[]) AS g(t, l, p)
     WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = l) AND NOT has_table_privilege(l, quote_ident(t), p)`,
    [wanted.map((g) => g.table), wanted.map((g) => g.login), wanted.map((g) => g.privilege)],
  );
  for (const g of missing) await db.query(`GRANT ${g.p} ON ${db.escapeIdentifier(g.t)} TO ${db.escapeIdentifier(g.l)}`);
}

/** Partitions and staging tables of the base tables, which the ingest role creates as it loads. */
const INGEST_RUNTIME = `^(${declaration.ingestTables.join('|')})_[0-9]{8}_`;

/**
 * The statements that give the database its roles, run by the master login (the database stack's logins function):
 * the migrator owns the schema and whatever the master created before; the ingest role owns the base tables; each
 * service's login gets its password from its secret and only the memberships the declaration names: its session
 * role with its privileges (INHERIT), its DDL role without them (SET only, for CREATE … IF NOT EXISTS).
 */
export function rolesSql(quote: { identifier: (s: string) => string; literal: (s: string) => string }, logins: ReadonlyArray<{ service: string; username: string; password: string }>): string[] {
  const id = quote.identifier;
  const role = (name: string, options: string) => `DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quote.literal(name)}) THEN CREATE ROLE ${id(name)} ${options}; END IF;
  END $$`;
  const statements = [role(MIGRATOR, 'NOLOGIN'), role(INGEST, 'NOLOGIN'), `GRANT ${id(MIGRATOR)}, ${id(INGEST)} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`];
  statements.push(`ALTER SCHEMA public OWNER TO ${id(MIGRATOR)}`, `GRANT CREATE ON SCHEMA public TO ${id(INGEST)}`);
  // What the master created before there were roles (a stage deployed earlier) passes to the role that owns it now.
  statements.push(`DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT c.oid::regclass AS name, c.relkind,
                    CASE WHEN c.relname = ANY (${quote.literal(`{${declaration.ingestTables.join(',')}}`)}::text[]) OR c.relname ~ ${quote.literal(INGEST_RUNTIME)}
                         THEN ${quote.literal(INGEST)} ELSE ${quote.literal(MIGRATOR)} END AS owner
             FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relowner = current_user::regrole
               AND c.relkind IN ('r', 'p', 'v', 'S', 'm')
               AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) LOOP
      EXECUTE format('ALTER %s %s OWNER TO %I', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name, r.owner);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND p.proowner = current_user::regrole LOOP
      EXECUTE format('ALTER FUNCTION %s OWNER TO %I', r.name, ${quote.literal(MIGRATOR)});
    END LOOP;
  END $$`);
  for (const { service, username, password } of logins) {
    const login = loginOf(service);
    const access = accessOf(login)!;
    statements.push(role(login, 'LOGIN'), `ALTER ROLE ${id(username)} WITH LOGIN PASSWORD ${quote.literal(password)}`);
    if (access.session) statements.push(`GRANT ${id(access.session)} TO ${id(login)} WITH INHERIT TRUE, SET TRUE`);
    if (access.ddl !== access.session) statements.push(`GRANT ${id(access.ddl)} TO ${id(login)} WITH INHERIT FALSE, SET TRUE`);
    // A table the owners create later (a staging table, a new transformer's) is open to a login granted every table.
    for (const [kind, privileges] of Object.entries(PRIVILEGES)) {
      if (!(LOGINS[service]![kind as keyof typeof PRIVILEGES] ?? []).includes('*')) continue;
      for (const owner of [MIGRATOR, INGEST]) statements.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${id(owner)} IN SCHEMA public GRANT ${privileges.join(', ')} ON TABLES TO ${id(login)}`);
    }
  }
  return statements;
}
