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
/** The role every transformer's login is a member of: what a transformer may read of the others' tables. */
export const TRANSFORMER = declaration.transformers.role;
const LOGINS: Record<string, LoginAccess> = declaration.logins;
const PRIVILEGES = { read: ['SELECT'], write: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], erase: ['SELECT', 'DELETE'] } as const;

/** The services whose logins the database stack creates; every other login is a transformer's, from its own stack. */
export const SERVICES = Object.keys(LOGINS);
export const loginOf = (service: string) => `dataharvest_${service}`;
/** Who is granted what: the declared logins, and the role through which every transformer reads. */
const GRANTEES: Record<string, LoginAccess> = {
  ...Object.fromEntries(SERVICES.map((s) => [loginOf(s), LOGINS[s]!])),
  [TRANSFORMER]: { read: declaration.transformers.read },
};
const ROLES = [MIGRATOR, INGEST, TRANSFORMER];

/** Whether a transformer's stack may have this login made for it: not a declared service's, nor a shared role. */
export const isTransformerLogin = (service: string) => /^[a-z][a-z0-9-]{1,30}$/.test(service) && !SERVICES.includes(service) && !ROLES.includes(loginOf(service));

/**
 * What a login may do, or undefined for one that is no service's (the master, a test's superuser). A transformer's
 * login runs its DDL as itself: it owns what it creates. Multi-user rotation alternates between the login and
 * `<login>_clone`, a member of it.
 */
export function accessOf(username: string): { login: string; session?: string; ddl: string } | undefined {
  const login = username.replace(/_clone$/, '');
  const service = login.startsWith('dataharvest_') ? login.slice('dataharvest_'.length) : undefined;
  if (!service) return undefined;
  if (isTransformerLogin(service)) return { login, ddl: login };
  if (!SERVICES.includes(service)) return undefined;
  const { session, ddl } = LOGINS[service]!;
  return { login, session, ddl: ddl ?? session ?? MIGRATOR };
}

/** A name as declared: exact, or with * for any characters (table names are plain identifiers). */
const matches = (pattern: string, table: string) => new RegExp(`^${pattern.replaceAll('*', '.*')}$`).test(table);

/** Every (table, login, privilege) the declaration grants on these tables. */
export function grantsOn(tables: readonly string[]): Array<{ table: string; login: string; privilege: string }> {
  return Object.entries(GRANTEES).flatMap(([login, access]) =>
    (Object.keys(PRIVILEGES) as Array<keyof typeof PRIVILEGES>).flatMap((kind) =>
      tables.filter((t) => (access[kind] ?? []).some((p) => matches(p, t))).flatMap((table) => PRIVILEGES[kind].map((privilege) => ({ table, login, privilege }))),
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
       AND NOT relispartition AND relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
  );
  const wanted = grantsOn(rows.map((r) => r.name));
  const { rows: missing } = await db.query<{ t: string; l: string; p: string }>(
    `SELECT t, l, p FROM unnest($1::text[], $2::text[], $3::text[]) AS g(t, l, p)
     WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = l) AND NOT has_table_privilege(l, quote_ident(t), p)`,
    [wanted.map((g) => g.table), wanted.map((g) => g.login), wanted.map((g) => g.privilege)],
  );
  for (const g of missing) await db.query(`GRANT ${g.p} ON ${db.escapeIdentifier(g.t)} TO ${db.escapeIdentifier(g.l)}`);
}

type Quote = { identifier: (s: string) => string; literal: (s: string) => string };
const createRole = (quote: Quote) => (name: string, options: string) =>
  `DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quote.literal(name)}) THEN CREATE ROLE ${quote.identifier(name)} ${options}; END IF;
  END $$`;

/** Partitions and staging tables of the base tables, which the ingest role creates as it loads. */
const INGEST_RUNTIME = `^(${declaration.ingestTables.join('|')})_[0-9]{8}_`;

/**
 * The statements that give the database its roles, run by the master login (the database stack's logins function):
 * the migrator owns the schema and whatever the master created before; the ingest role owns the base tables; each
 * service's login gets its password from its secret and only the memberships the declaration names: its session
 * role with its privileges (INHERIT), its DDL role without them (SET only, for CREATE … IF NOT EXISTS).
 */
export function rolesSql(quote: Quote, logins: ReadonlyArray<{ service: string; username: string; password: string }>): string[] {
  const id = quote.identifier;
  const role = createRole(quote);
  const statements = [role(MIGRATOR, 'NOLOGIN'), role(INGEST, 'NOLOGIN'), role(TRANSFORMER, 'NOLOGIN'), `GRANT ${id(MIGRATOR)}, ${id(INGEST)} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`];
  // A transformer creates its own tables (transformerLoginSql).
  statements.push(`ALTER SCHEMA public OWNER TO ${id(MIGRATOR)}`, `GRANT CREATE ON SCHEMA public TO ${id(INGEST)}, ${id(TRANSFORMER)}`);
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

/**
 * The statements that make a transformer's login (the logins function, as the master, when the transformer's stack
 * deploys): its password from its secret, membership of the transformer role (its reads) and nothing else; it owns
 * what its DDL creates. A login from before, which ran its DDL as the migrator, loses the migrator and is handed what
 * was its own: the tables it could insert into, its contribution's view and the functions returning their rows.
 */
export function transformerLoginSql(quote: Quote, { service, username, password }: { service: string; username: string; password: string }): string[] {
  const id = quote.identifier;
  const login = loginOf(service);
  if (!isTransformerLogin(service) || username !== login) throw new AccessError(`login ${username} for ${service}: a transformer's login is dataharvest_<its name>, no service's nor role's`);
  const view = quote.literal(`${service.replaceAll('-', '_')}_event_fields`);
  const [to, migrator] = [quote.literal(login), quote.literal(MIGRATOR)];
  return [
    createRole(quote)(login, 'LOGIN'),
    `ALTER ROLE ${id(login)} WITH LOGIN PASSWORD ${quote.literal(password)}`,
    `GRANT ${id(TRANSFORMER)} TO ${id(login)} WITH INHERIT TRUE, SET FALSE`,
    `REVOKE ${id(MIGRATOR)} FROM ${id(login)}`,
    // The master hands objects to the login, which it may do only as a member (SET, not INHERIT).
    `GRANT ${id(login)} TO CURRENT_USER WITH INHERIT FALSE, SET TRUE`,
    `DO $$ DECLARE r record; f record; BEGIN
      FOR r IN SELECT c.oid::regclass AS name, c.relkind, c.reltype FROM pg_class c
               WHERE c.relnamespace = current_schema()::regnamespace AND c.relowner = ${migrator}::regrole AND c.relkind IN ('r', 'p', 'v')
                 AND NOT c.relispartition AND (c.relname = ${view} OR has_table_privilege(${to}, c.oid, 'INSERT')) LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', CASE r.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, r.name, ${to});
        FOR f IN SELECT p.oid::regprocedure AS name FROM pg_proc p WHERE p.prorettype = r.reltype AND p.proowner = ${migrator}::regrole LOOP
          EXECUTE format('ALTER FUNCTION %s OWNER TO %I', f.name, ${to});
        END LOOP;
      END LOOP;
    END $$`,
  ];
}

/** A login a transformer's stack may not have: another service's, or a shared role. */
export class AccessError extends Error {
  override name = 'AccessError';
}
