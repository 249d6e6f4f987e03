// Print (or apply) the SQL that Better Auth itself runs to create its `auth`
// schema in the database named by DATABASE_URL (normally an EMPTY one, so the
// output is the "full" CREATE TABLE form, not the ALTER TABLE delta form).
//
// Runs on Node 20 (the `auth` CLI needs Node 22): it calls the library's
// getMigrations() directly. It must be run from a folder whose node_modules
// has the Better Auth packages (check.py and the tests copy it there).
//
//   DATABASE_URL=postgresql://... node schema.mjs [--run] [--teams] PLUGIN...
//   node schema.mjs --batch < jobs.json    # [{"url", "plugins", "teams"}, ...]
//
// Without --run: prints compileMigrations() (touches nothing).
// With --run: applies it with runMigrations() and prints nothing.
// With --batch: applies it to each database of the list, in one node process.
import pg from "pg";
import { PostgresDialect } from "kysely";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";

const args = process.argv.slice(2);
const noop = async () => {};

// The plugin ids are the names of the factory functions (as in PLUGINS of
// extensions/better_auth.py); options are the minimum each one needs.
const factories = {
  twoFactor: async () => (await import("better-auth/plugins")).twoFactor(),
  organization: async (teams) =>
    (await import("better-auth/plugins")).organization(
      teams ? { teams: { enabled: true } } : {},
    ),
  admin: async () => (await import("better-auth/plugins")).admin(),
  username: async () => (await import("better-auth/plugins")).username(),
  passkey: async () => (await import("@better-auth/passkey")).passkey(),
  apiKey: async () => (await import("@better-auth/api-key")).apiKey(),
  jwt: async () => (await import("better-auth/plugins")).jwt(),
  anonymous: async () => (await import("better-auth/plugins")).anonymous(),
  phoneNumber: async () =>
    (await import("better-auth/plugins")).phoneNumber({ sendOTP: noop }),
  magicLink: async () =>
    (await import("better-auth/plugins")).magicLink({ sendMagicLink: noop }),
};

// Print (run=false) or apply (run=true) Better Auth's SQL for one database.
async function migrate({ url, plugins: ids, teams, run }) {
  const plugins = [];
  for (const id of ids) {
    if (!(id in factories)) {
      throw new Error(`unknown plugin: ${id} (known: ${Object.keys(factories).join(", ")})`);
    }
    plugins.push(await factories[id](teams));
  }
  const pool = new pg.Pool({ connectionString: url });
  try {
    const auth = betterAuth({
      secret: "maint-schema-script-secret-not-used-for-anything",
      baseURL: "http://localhost:3000",
      database: {
        dialect: new PostgresDialect({ pool }),
        type: "postgres",
        schemaName: "auth",
      },
      emailAndPassword: { enabled: true },
      plugins,
      // The tables are what we are about to create: don't complain they are missing.
      advanced: { database: { validateSchema: false } },
    });
    const migrations = await getMigrations(auth.options);
    if (run) {
      await migrations.runMigrations();
    } else {
      const sql = await migrations.compileMigrations();
      process.stdout.write(sql.endsWith("\n") ? sql : sql + "\n");
    }
  } finally {
    await pool.end();
  }
}

if (args.includes("--batch")) {
  // stdin: JSON list of {url, plugins, teams}; applies each (one node start for all).
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  for (const job of JSON.parse(input)) await migrate({ ...job, run: true });
} else {
  await migrate({
    url: process.env.DATABASE_URL,
    plugins: args.filter((a) => !a.startsWith("--")),
    teams: args.includes("--teams"),
    run: args.includes("--run"),
  });
}
