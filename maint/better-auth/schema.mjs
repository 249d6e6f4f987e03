// Better Auth's own schema for a set of plugins: applies (or prints) the SQL
// that the library itself runs to create its tables in schema `auth` of the
// database named by the job (normally an EMPTY one, so the result is the
// "full" CREATE TABLE form, not the ALTER TABLE delta form).
//
// Runs on Node 20 (the `auth` CLI needs Node 22): it calls the library's
// getMigrations() directly. It must be run from a folder whose node_modules
// has the Better Auth packages (generate.py, check.py and the tests copy it
// there).
//
//   node schema.mjs --plugins                      # the plugin table below, as JSON (needs no packages)
//   node schema.mjs --batch < jobs.json            # [{"url", "plugins", "teams"}, ...]: apply each
//   DATABASE_URL=postgresql://... node schema.mjs [--teams] PLUGIN...   # print the SQL
//
// The plugin table is the list of plugins the template offers, in the order
// of auth.ts and of the columns they add. Each entry: the module its factory
// is imported from, the npm packages that module needs (none for
// better-auth/plugins; pinned at their newest release), their peers that
// auth.ts imports itself (pinned at the version npm resolves), the plugins it
// needs alongside, and the options that decide its tables, which must
// match what template/src/auth.ts.jinja passes (the end-to-end test compares
// the two). Adding a plugin: add it here (and to auth.ts.jinja if it needs
// options), then run generate.py.

const args = process.argv.slice(2);
const noop = async () => {};
const BUILT_IN = "better-auth/plugins";

export const PLUGINS = [
  { id: "twoFactor", module: BUILT_IN },
  { id: "organization", module: BUILT_IN, options: ({ teams }) => (teams ? { teams: { enabled: true } } : {}) },
  { id: "admin", module: BUILT_IN },
  { id: "username", module: BUILT_IN },
  { id: "passkey", module: "@better-auth/passkey", packages: ["@better-auth/passkey"] },
  { id: "apiKey", module: "@better-auth/api-key", packages: ["@better-auth/api-key"] },
  { id: "jwt", module: BUILT_IN },
  { id: "anonymous", module: BUILT_IN },
  { id: "phoneNumber", module: BUILT_IN, options: () => ({ sendOTP: noop }) },
  { id: "magicLink", module: BUILT_IN, options: () => ({ sendMagicLink: noop }) },
  { id: "deviceAuthorization", module: BUILT_IN },
  {
    id: "siwe", module: BUILT_IN,
    options: () => ({ domain: "localhost", getNonce: async () => "abcdefgh1234", verifyMessage: async () => false }),
  },
  // Without storeInDatabase the plugin only sets a cookie: no column.
  { id: "lastLoginMethod", module: BUILT_IN, options: () => ({ storeInDatabase: true }) },
  { id: "sso", module: "@better-auth/sso", packages: ["@better-auth/sso"] },
  // Issues JWTs through the jwt plugin: a project choosing it must choose jwt too.
  {
    id: "oauthProvider", module: "@better-auth/oauth-provider", packages: ["@better-auth/oauth-provider"],
    requires: ["jwt"], options: () => ({ loginPage: "/sign-in", consentPage: "/consent" }),
  },
  // Managed connections: SCIM connections and their credentials are rows in the database.
  {
    id: "scim", module: "@better-auth/scim", packages: ["@better-auth/scim"],
    options: () => ({ connections: [], managedConnections: { credentialHashSecret: "x".repeat(32) } }),
  },
  // Subscriptions on: the subscription table is why a database template offers it.
  // `stripe` (the Stripe SDK) is the plugin's peer; auth.ts creates its client.
  {
    id: "stripe", module: "@better-auth/stripe", packages: ["@better-auth/stripe"], peers: ["stripe"],
    options: async () => {
      const { default: Stripe } = await import("stripe");
      return {
        stripeClient: new Stripe("sk_test_not_used"),
        stripeWebhookSecret: "whsec_not_used",
        subscription: { enabled: true, plans: [] },
      };
    },
  },
];

const byId = Object.fromEntries(PLUGINS.map((p) => [p.id, p]));

async function makePlugin(id, teams) {
  const plugin = byId[id];
  if (!plugin) throw new Error(`unknown plugin: ${id} (known: ${Object.keys(byId).join(", ")})`);
  const options = plugin.options ? await plugin.options({ teams }) : undefined;
  return (await import(plugin.module))[id](options);
}

// Print (run=false) or apply (run=true) Better Auth's SQL for one database.
async function migrate({ url, plugins: ids, teams, run }) {
  const { default: pg } = await import("pg");
  const { PostgresDialect } = await import("kysely");
  const { betterAuth } = await import("better-auth");
  const { getMigrations } = await import("better-auth/db/migration");
  const plugins = [];
  for (const id of ids) plugins.push(await makePlugin(id, teams));
  const pool = new pg.Pool({ connectionString: url });
  try {
    const auth = betterAuth({
      secret: "maint-schema-script-secret-not-used-for-anything",
      baseURL: "http://localhost:3000",
      database: {
        dialect: new PostgresDialect({ pool }),
        type: "postgres",
        schemaName: "auth",
        // As Better Auth does for a bare pg Pool; scim refuses to run without it.
        transaction: true,
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

if (args.includes("--plugins")) {
  const table = PLUGINS.map(({ id, module, packages = [], peers = [], requires = [] }) => ({ id, module, packages, peers, requires }));
  process.stdout.write(JSON.stringify(table) + "\n");
} else if (args.includes("--batch")) {
  // stdin: JSON list of {url, plugins, teams}; applies each (one node start for all).
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  for (const job of JSON.parse(input)) {
    try {
      await migrate({ ...job, run: true });
    } catch (error) {
      throw new Error(`plugins [${job.plugins.join(", ")}]${job.teams ? " with teams" : ""}: ${error.message}`, { cause: error });
    }
  }
} else {
  await migrate({
    url: process.env.DATABASE_URL,
    plugins: args.filter((a) => !a.startsWith("--")),
    teams: args.includes("--teams"),
    run: false,
  });
}
