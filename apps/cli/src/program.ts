/**
 * The command tree: names, options, help and examples. Each command's implementation is imported
 * only when it runs, so `keyward --help` never loads ccxt, SQLite or the vault.
 */
import {
  credentialsExample,
  EXCHANGE_IDS,
  EXCHANGE_PROFILES,
  type ExchangeProfile,
  needsPassphrase,
} from "@keyward/core/exchanges";
import { Command, Option } from "commander";
import { auditListOptions } from "./audit-options.js";
import { registerCheck } from "./check-command.js";
import { registerAccountSetLabel } from "./commands/account-label-command.js";
import type { ExitCode } from "./exit.js";
import { registerKeyCreate } from "./key-create-command.js";
import { fitHelp, orList, terminalSafe } from "./output.js";
import { registerScan } from "./scan-command.js";
import { KEYWARD_VERSION } from "./version.js";

type Setter = (code: ExitCode) => void;

const EXIT_CODES_HELP = `
Exit codes:
  0  done (for revoke: every key revoked and verified)
  1  something failed (also: an exchange's second-factor code could not be given or was refused)
  2  usage, configuration or input error; nothing was changed
  3  revoke, rotate: some keys still wait for a person on the exchange's web site`;

/** An "Examples:" section for a command's help. */
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;

/** How to give credentials from a file without them ever being on a command line or in shell history. */
const CREDENTIALS_FILE_NOTE = `Create such a file with mode 0600 (\`umask 077\` first, then an editor, not \`echo\`), and delete it once
Keyward has the key: typing the JSON into \`echo\` would leave the secret in your shell history.`;

/** resume and abort act on the journal in state.db: what they refuse, and why. */
const JOURNAL_CHECK = `The run's journal in state.db is checked first: its plan, options and every key's progress carry a
MAC under the audit key (vault). A run changed without that key, or journaled by a Keyward from before
this check, is refused (JOURNAL_TAMPERED, exit 1) and nothing is run or written: revoke or rotate its keys
by hand, and run \`keyward audit verify\`.`;

// Help texts name exchanges only through the registry (`@keyward/core/exchanges`, which loads no adapter).
const [FIRST] = EXCHANGE_PROFILES as [ExchangeProfile, ...ExchangeProfile[]];
/** An exchange without a passphrase and one whose keys are all tracked, for examples (else the first). */
const PLAIN = EXCHANGE_PROFILES.find((p) => !needsPassphrase(p)) ?? FIRST;
const TRACKED = EXCHANGE_PROFILES.find((p) => p.list === "tracked") ?? FIRST;
const REGIONAL = EXCHANGE_PROFILES.filter((p) => p.regions);
const REGION_CHOICES = [...new Set(REGIONAL.flatMap((p) => Object.keys(p.regions?.hosts ?? {})))];
const REGION_EXAMPLE = REGIONAL.flatMap((p) => {
  const other = Object.keys(p.regions?.hosts ?? {}).find((r) => r !== p.regions?.default);
  return other ? [`keyward account add ${p.id} desk-alpha --region ${other}`] : [];
});
/** The exchanges with a region named `testnet`, which `--testnet` stands for. */
const TESTNET = REGIONAL.filter((p) => Object.hasOwn(p.regions?.hosts ?? {}, "testnet"));
/** Exchanges whose profile lists a `totpSeed` field: their key management asks for a second-factor code. */
const SEEDED = EXCHANGE_PROFILES.filter((p) => p.credentials.some((f) => f.name === "totpSeed"));
const SEED_HELP = SEEDED.length
  ? `
${wrap(`${orList(SEEDED.map((p) => p.name))} asks for a two-factor (TOTP) code before it changes keys. Give the account's TOTP seed as "totpSeed" (the base32 text under the QR code) and Keyward answers those challenges itself, auditing each; leave it out (empty at the prompt) and Keyward asks you for a code at a hidden prompt each time, or fails without a terminal (SECOND_FACTOR_REQUIRED). The seed stays in the vault, is never shown or delivered; set or remove it later with \`keyward account set-seed\`.`, 104, "")}
  keyward account add ${SEEDED[0]?.id} desk-delta     # hidden prompts, the seed last (empty: none)
`
  : "";

/** What each exchange asks of the key Keyward manages its accounts with (profiles' `accountKeyAdvice`). */
const ACCOUNT_KEY_ADVICE = EXCHANGE_PROFILES.flatMap((p) =>
  p.accountKeyAdvice ? [wrap(`${p.accountKeyAdvice}.`, 104, "")] : [],
);

/** Phrases like "<Name> sub-account keys" or "<Name> keys": the kinds of key created that way. */
function keysCreatedBy(way: string): string[] {
  return EXCHANGE_PROFILES.flatMap((p) => {
    const kinds = Object.entries(p.keys).filter(([, facts]) => facts?.create === way);
    if (kinds.length === 0) return [];
    if (kinds.length === Object.keys(p.keys).length) return [`${p.name} keys`];
    const named = kinds.map(([kind]) => kind).filter((k) => k !== "tracked");
    return named.map((kind) => `${p.name} ${kind} keys`);
  });
}

/** Phrases like "<Name> master keys": the kinds of key an exchange gives a new secret in place by API. */
function keysResetInPlace(): string[] {
  return EXCHANGE_PROFILES.flatMap((p) => {
    const kinds = Object.entries(p.keys).filter(([, facts]) => facts?.resetInPlace === "api");
    if (kinds.length === 0) return [];
    if (kinds.length === Object.keys(p.keys).length) return [`${p.name} keys`];
    return kinds.map(([kind]) => `${p.name} ${kind} keys`);
  });
}
const RESETTABLE = keysResetInPlace();

/**
 * What `key track` is for, per exchange: every key where the API lists none; otherwise the kinds a listing
 * misses. An exchange's `tracked` kind beside a `master` kind is the master keys no API lists: Keyward's
 * own key for the account is known from its probe (OKX) or listed (Bybit), so the rest are "other than
 * Keyward's own".
 */
function trackedKeyKinds(): string[] {
  const every: string[] = [];
  const otherMasters: string[] = [];
  const kinds: string[] = [];
  for (const p of EXCHANGE_PROFILES) {
    const tracked = Object.entries(p.keys).filter(([, facts]) => facts?.list === "tracked");
    if (tracked.length === 0) continue;
    if (tracked.length === Object.keys(p.keys).length) every.push(`every ${p.name} key`);
    else if (p.keys.tracked && p.keys.master) otherMasters.push(p.name);
    else kinds.push(...tracked.map(([kind]) => `${p.name} ${kind} keys`));
  }
  const masters = otherMasters.length
    ? [
        `${otherMasters.join(" and ").replace(/ and (?=.* and )/g, ", ")} master keys other than Keyward's own`,
      ]
    : [];
  return [...masters, ...kinds, ...every];
}

/**
 * The exchanges where a kind of key a person creates is revoked by API: Keyward's own key of that kind
 * deletes itself by API once its replacement is delivered (rotation/plan.ts `deletesItself`).
 */
const SELF_DELETING = EXCHANGE_PROFILES.filter((p) =>
  Object.values(p.keys).some((facts) => facts?.create === "person" && facts.revoke === "api"),
).map((p) => p.name);

/** The exchanges with a kill switch for some kind of key (revoke disables such keys first by default). */
const KILL_SWITCH = EXCHANGE_PROFILES.filter((p) =>
  Object.values(p.keys).some((facts) => facts?.disable === "api"),
).map((p) => p.name);

const EXCHANGE_RISKS = EXCHANGE_PROFILES.flatMap((p) =>
  Object.entries(p.risks).map(([name, rule]) => `${name} (${rule.text})`),
);

export interface GlobalOptions {
  home?: string;
}

export function buildProgram(setExit: Setter): Command {
  const program = new Command("keyward")
    .description(
      `See, revoke and rotate exchange API keys (${EXCHANGE_PROFILES.map((p) => p.name).join(", ")}) from one place.`,
    )
    .option(
      "--home <dir>",
      "where Keyward keeps its state (default: $KEYWARD_HOME, else the platform's data folder)",
    )
    // The version comes from package.json, read without loading core (see version.ts).
    .version(KEYWARD_VERSION, "-V, --version", "print the version and exit")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    // Commander's errors echo what was typed (`unknown option '…'`): escaped like every other message.
    .configureOutput({
      writeOut: (text) => process.stdout.write(fitHelp(text)),
      writeErr: (text) => process.stderr.write(fitHelp(terminalSafe(text, true))),
    })
    .addHelpText(
      "after",
      `
Secrets are never taken from the command line: Keyward prompts for them on the terminal (hidden), or
reads JSON from stdin with --credentials-stdin, redirected from a file. ${CREDENTIALS_FILE_NOTE}
The vault passphrase comes from $KEYWARD_PASSPHRASE or a prompt.
${EXIT_CODES_HELP}

Examples:
  keyward init
  keyward account add ${FIRST.id} desk-alpha                 # asks for the credentials at hidden prompts
  keyward account add ${PLAIN.id} ops --credentials-stdin < ops-key.json
  keyward keys --risky
  keyward revoke --label 'bot-*' --dry-run
  keyward revoke --all --yes --json`,
    );

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const run =
    <A extends unknown[]>(load: () => Promise<(g: GlobalOptions, ...args: A) => Promise<ExitCode>>) =>
    async (...args: A) => {
      const fn = await load();
      setExit(await fn(globals(), ...args));
    };

  program
    .command("init")
    .description("create the Keyward home: config, encrypted vault and local database")
    .addHelpText(
      "after",
      "\nThe home is made private (folder 0700, files 0600); one owned by another user is refused." +
        "\n\nExamples:\n  keyward init\n  keyward --home ./kw init",
    )
    .action(run(async () => (await import("./commands/init.js")).init));

  const account = program
    .command("account")
    .description("manage exchange accounts (their credentials live in the vault)")
    .addHelpText(
      "after",
      examples(...REGION_EXAMPLE.slice(0, 1), "keyward account list", "keyward account check desk-alpha"),
    );
  account
    .command("add")
    .description("add an account: verifies the credentials with a probe, then stores them encrypted")
    .argument("<exchange>", orList(EXCHANGE_IDS))
    .argument("<name>", "a name for the account, e.g. desk-alpha")
    .addOption(
      new Option(
        "--endpoint <url>",
        "API base URL (a proxy, or the local simulator): https, or http to localhost/127.0.0.0/8/[::1] only",
      ).conflicts("region"),
    )
    .addOption(
      new Option(
        "--region <region>",
        REGIONAL.map(
          (p) =>
            `${p.name} host: ${orList(Object.entries(p.regions?.hosts ?? {}).map(([r, h]) => `${r} (${h.site})`))}`,
        ).join("; "),
      ).choices(REGION_CHOICES),
    )
    .addOption(
      new Option(
        "--testnet",
        `the exchange's testnet, same as --region testnet (${TESTNET.length ? `${orList(TESTNET.map((p) => p.name))} only` : "no exchange has one"})`,
      ).conflicts(["endpoint", "region"]),
    )
    .option(
      "--credentials-stdin",
      `read {apiKey, secret, passphrase?${SEEDED.length ? ", totpSeed?" : ""}} as JSON from stdin instead of prompting`,
    )
    .option(
      "--label <text>",
      "the key's label on the exchange's page, where its API lists none (not a secret)",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Which key to add: one that cannot withdraw, bound to the IP addresses Keyward runs from; account add
probes it first and warns when it can withdraw, is not IP-bound, or cannot manage the account's keys.
${ACCOUNT_KEY_ADVICE.map((l) => `${l}\n`).join("")}${SEED_HELP}
With --credentials-stdin, stdin is one JSON object such as ${credentialsExample(PLAIN)}.
${CREDENTIALS_FILE_NOTE}

Examples:
${REGION_EXAMPLE.map((l) => `  ${l}\n`).join("")}${TESTNET.map((p) => `  keyward account add ${p.id} desk-test --testnet\n`).join("")}  keyward account add ${PLAIN.id} ops --credentials-stdin < ops-key.json`,
    )
    .action(run(async () => (await import("./commands/account.js")).accountAdd));
  account
    .command("list")
    .description("list accounts")
    .option("--json", "print JSON")
    .addHelpText("after", examples("keyward account list", "keyward account list --json"))
    .action(run(async () => (await import("./commands/account.js")).accountList));
  account
    .command("check")
    .description("probe each account's key and show its health, permissions and warnings")
    .argument("[name]", "only this account")
    .option("--json", "print JSON")
    .addHelpText("after", examples("keyward account check", "keyward account check desk-alpha --json"))
    .action(run(async () => (await import("./commands/account.js")).accountCheck));
  account
    .command("set-seed")
    .description(
      "store (or with --clear remove) an account's two-factor TOTP seed, so Keyward answers the exchange's code challenges itself",
    )
    .argument("<name>", "the account")
    .option("--stdin", "read the seed from stdin (one line) instead of a hidden prompt")
    .option("--clear", "remove the seed from the vault: Keyward asks for a code each time again")
    .addHelpText(
      "after",
      `
Only for exchanges whose key management asks for a two-factor code${SEEDED.length ? ` (${orList(SEEDED.map((p) => p.name))})` : ""}; refused for
the others. The seed is the base32 text shown under the QR code when two-factor authentication was set
up; it stays in the vault (a stolen vault then holds the account's second factor too: see SECURITY.md)
and is never printed, delivered or sent anywhere but into the codes Keyward computes. Audited, without it.
${examples("keyward account set-seed desk-deribit", "keyward account set-seed desk-deribit --stdin < seed.txt   # a 0600 file, deleted afterwards", "keyward account set-seed desk-deribit --clear")}`,
    )
    .action(run(async () => (await import("./commands/account.js")).accountSetSeed));
  registerAccountSetLabel(account, run);
  account
    .command("remove")
    .description("remove an account and its credentials from Keyward (the exchange is not touched)")
    .argument("<name>")
    .addHelpText("after", examples("keyward account remove desk-alpha"))
    .action(run(async () => (await import("./commands/account.js")).accountRemove));

  const key = program
    .command("key")
    .description(
      `track keys the exchange API cannot list (${trackedKeyKinds().join(", ")}), or create a key by API`,
    )
    .addHelpText(
      "after",
      examples(
        "keyward key track ops --label mm-bot   # asks for the key's credentials at hidden prompts",
        `keyward key untrack ${TRACKED.id}:ops:-:AbCd…`,
      ),
    );
  key
    .command("track")
    .description("register a key so Keyward can see, probe and revoke it")
    .argument("<account>", "the account the key belongs to")
    .requiredOption("--label <label>", "the key's label on the exchange")
    .option("--credentials-stdin", "read {apiKey, secret} as JSON from stdin instead of prompting")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `\n${CREDENTIALS_FILE_NOTE}\n${examples("keyward key track ops --label mm-bot", "keyward key track ops --label mm-bot --credentials-stdin < mm-bot-key.json")}`,
    )
    .action(run(async () => (await import("./commands/key.js")).keyTrack));
  key
    .command("untrack")
    .description("forget a tracked key (the exchange is not touched)")
    .argument("<id>", "the key id from `keyward keys`, or its API key")
    .addHelpText("after", examples(`keyward key untrack ${TRACKED.id}:ops:-:AbCd…`))
    .action(run(async () => (await import("./commands/key.js")).keyUntrack));
  const keyCreate = registerKeyCreate(key, run);

  const selectors = (cmd: Command) =>
    cmd
      .option("--exchange <exchange>", `only this exchange (${EXCHANGE_IDS.join(", ")})`)
      .option("--account <name>", "only this account")
      .option(
        "--label <glob>",
        "only keys whose label matches: * ? [..] only, case-insensitive, at most 128 characters, e.g. 'bot-*'",
      )
      .option("--risky", "only keys with a risk flag")
      .option(
        "--state <state>",
        "only keys in this state: active, disabled (switched off on the exchange), dead or unknown",
      );

  selectors(program.command("keys").description("the key inventory across all accounts, fetched live"))
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Risk flags: withdraw, transfer, no-ip, old (older than settings.maxKeyAgeDays, default 90),
${[...EXCHANGE_RISKS, "unverified"].join(", ")}. A key the exchange will expire shows the time left after
its flags ("expires 12d"; JSON: "expiresAt", an ISO date-time or null). A key the exchange lists as
switched off (its kill switch: it fails authentication until enabled again) shows DISABLED in the SEEN
column (JSON: "state": "disabled"); it keeps its risk flags, since enabling it brings them back, and
\`keyward revoke\` removes it like any other key.

An account that cannot be listed (its own key revoked, or its IP binding no longer matching) still shows
its tracked keys, probed with their own secrets, and its other keys from the last successful listing,
marked STALE with their age (JSON: "stale": {fetchedAt, ageMs}); only a person can revoke them now.
Each account says which keys its exchange cannot list at all: track those with \`keyward key track\`.

Examples:
  keyward keys --risky
  keyward keys --exchange ${FIRST.id} --label 'mm-*' --json`,
    )
    .action(run(async () => (await import("./commands/keys.js")).keys));

  selectors(
    program
      .command("revoke")
      .description(
        "revoke keys in bulk, by API where possible, guided where only a person can; then prove them dead",
      )
      .argument("[ids...]", "key ids from `keyward keys` (or API keys)"),
  )
    .option("--all", "every key of every account")
    .option("--dry-run", "print the plan and change nothing")
    .option("--yes", "do not ask for confirmation")
    .option("--no-wait", "do not wait for manual steps; report those keys as pending")
    .option("--manual-timeout <duration>", "how long to wait for manual steps, e.g. 15m, 90s", "15m")
    // Both spellings: --disable-first is the default (the incident default the docs name), so a script
    // may say it; --no-disable-first turns it off.
    .option(
      "--disable-first",
      "where the exchange has a kill switch, disable every such key first, then remove them (the default)",
    )
    .option(
      "--no-disable-first",
      "where the exchange has a kill switch, remove keys directly instead of disabling them all first",
    )
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Where the exchange has a kill switch for a key (${orList(KILL_SWITCH) || "no exchange yet"}), every such key is DISABLED first,
all of an account's before any is removed: the switch takes effect at once, needs no second-factor code
and can be undone; then each key is removed and proven dead. This is the default (an incident's);
--no-disable-first removes them directly. Keyward's own key for an account is never disabled (it could
then remove nothing): it is removed last. A key disabled but not removed (its removal failed or was
stopped) is reported DISABLED (JSON: "outcome": "disabled", "summary.disabled"; exit 1): it fails
authentication but can be enabled again; run the revoke again to remove it (--state disabled selects
every key switched off on its exchange).
Keys that can withdraw go first; the key Keyward itself uses for an account goes after every other key of
that account, and the plan warns that Keyward loses access to it. Where the exchange revokes that key by
API (it deletes itself), it is revoked only when named by its id or API key: --all, --account, --exchange,
--label and --risky leave it out, and the plan says so (JSON: "heldBack"). Ids with those options narrow the
selection rather than add to it: revoke it afterwards with \`keyward revoke <id>\`. Without --yes, keyward asks you to type
the number of keys; without a terminal and without --yes it refuses. Manual keys get a numbered checklist
in the plan's order; keyward then probes them until they are dead or the timeout passes, then names the
command that waits for the rest again. Keys of an account that cannot be listed are taken from its last
listing (STALE) and revoked by a person, with probing where Keyward holds their secret.
A line per key goes to stderr as it is revoked and proven dead, or NOT proven dead (a key the exchange
says it revoked that is still listed or still authenticates: exit 1). With --json, stdout is only the
report; the progress lines show on a terminal only.
${EXIT_CODES_HELP}

Examples:
  keyward revoke --label 'bot-*' --dry-run
  keyward revoke ${FIRST.id}:desk-alpha:alphaMM01:0b8c… --yes
  keyward revoke --all --yes --no-wait --json`,
    )
    .action(run(async () => (await import("./commands/revoke.js")).revoke));

  const rotate = program
    .command("rotate")
    .description(
      "rotate keys in bulk: new keys with the same permissions delivered to the bots, then the old ones revoked",
    )
    .addHelpText(
      "after",
      `
A rotation is planned, reviewed, then applied. Every step is journaled before an exchange or a file is
touched, so \`keyward rotate resume\` finishes a rotation a crash interrupted, and the old key is never
revoked before its replacement is verified, delivered and checked. ${orList(keysCreatedBy("api")).replace(/ or /, " and ")} rotate by API;
${orList(keysCreatedBy("person")).replace(/ or /, " and ")} are assisted: Keyward says exactly which key to create, checks it, and
proves the old one dead once a person revoked it; where the exchange lets the key Keyward uses for an
account delete itself, Keyward deletes that old key by API with its own secret once it uses the new one.
Where the exchange creates the account's own keys by API, Keyward's own key is rotated by API too: the new
key is created in the account, delivered, Keyward switches to it, and after the grace period (once the
account's other keys in the run are done) the new key deletes the old one.${
        RESETTABLE.length
          ? `
\`rotate plan --reset-in-place\` instead gives each key a new secret under the SAME key id where the
exchange can (${orList(RESETTABLE)}): the old secret dies the moment the new one exists, so there is no
grace period and whatever uses the key fails until the delivery lands; \`rotate apply\` then needs
--reset-in-place again to accept that.`
          : ""
      }
${EXIT_CODES_HELP}`,
    );
  const rotatePlan = selectors(
    rotate
      .command("plan")
      .description("plan a rotation: method, new key, delivery targets and refused keys per selected key")
      .argument("[ids...]", "key ids from `keyward keys` (or API keys)"),
  )
    .option("--all", "every key of every account")
    .option(
      "--reset-in-place",
      "a new secret for the same key id instead of a new key, where the exchange can; the old secret dies at once (no grace); other keys are refused",
    )
    .action(run(async () => (await import("./commands/rotate.js")).rotatePlan));
  // `--deliver`, the target kinds' own options (e.g. a recipient) and the help about targets come from
  // core's list of delivery targets, loaded only once `rotate` (or `key`, for `key create`) is the command
  // (`keyward --help` must not load core): added before it parses anything, its help included.
  program.hook("preSubcommand", async (_, sub) => {
    if (sub === rotate) addTargetHelp(rotate, rotatePlan, await import("@keyward/core"));
    if (sub === key) addTargetOptions(keyCreate, await import("@keyward/core"));
  });
  const runFlags = (cmd: Command) =>
    cmd
      .option("--concurrency <n>", `keys in progress at once (default 8)`)
      .option(
        "--manual-timeout <duration>",
        "how long to wait for a person (create or revoke a key), e.g. 15m",
      )
      .option("--credentials-stdin", "assisted keys: read the new credentials as JSON from stdin")
      .option("--json", "print a JSON report");
  runFlags(
    rotate
      .command("apply")
      .description("apply a plan: create, verify, deliver, check, then revoke and prove each old key dead")
      .argument("<plan>", "the plan file from `keyward rotate plan -o`"),
  )
    .option("--grace <duration>", "time between delivery (and the check) and revoking the old key", "30s")
    .option(
      "--check-cmd <cmd>",
      "run after delivery with KEYWARD_KEY_ID set (never the secret); non-zero stops",
    )
    .option(
      "--reset-in-place",
      "accept the plan's in-place resets: each such key's old secret dies the moment its new one exists, with no grace period",
    )
    .addHelpText(
      "after",
      `
Assisted keys: Keyward prints exactly which key to create, then asks for its credentials (hidden
prompt), or reads them from stdin with --credentials-stdin: {"apiKey","secret"[,"passphrase"]}, or a list
of such objects each with "slot": N. Credentials whose probe does not show exactly the old key's
permissions are refused. After the grace period it guides revoking the old key and probes it until dead${
        SELF_DELETING.length
          ? `;
where the exchange lets a key delete itself (${orList(SELF_DELETING)}) and the old key is Keyward's own,
Keyward deletes it by API with that key instead.`
          : "."
      }
The plan decides what runs and where secrets go, so it must be yours: a plan file another user owns or
may write, or in a folder another user owns or may write without the sticky bit, is refused (exit 2).
A line per key and step goes to stderr (new key created, verified, delivered, old key revoked, proven
dead); with --json, stdout is only the report and the progress lines show on a terminal only. A run left
waiting or stopped names the \`keyward rotate resume\` command that carries it on.
${EXIT_CODES_HELP}

A plan made with --reset-in-place is applied only with --reset-in-place again (exit 2 otherwise): such a
key keeps its id and gets a new secret, its old secret dies at once, it is delivered, checked, and
finished once a probe with the old secret says dead; no grace period applies to it.

Examples:
  keyward rotate apply plan.json
  keyward rotate apply plan.json --reset-in-place
  keyward rotate apply plan.json --grace 2m --check-cmd './check-bots.sh' --concurrency 4 --json
  keyward rotate apply plan.json --credentials-stdin < new-keys.json   # [{"slot":1,"apiKey",…}], a 0600 file`,
    )
    .action(run(async () => (await import("./commands/rotate.js")).rotateApply));
  runFlags(
    rotate
      .command("resume")
      .description("finish an interrupted rotation from its journal (after a crash, a failure or a wait)")
      .argument("[id]", "the rotation id (default: the unfinished one)"),
  )
    .addHelpText(
      "after",
      `
${JOURNAL_CHECK}
${examples(
  "keyward rotate resume",
  "keyward rotate resume rot-k3f9q2 --json",
  "keyward rotate resume --credentials-stdin < new-key.json   # a 0600 file, deleted afterwards",
)}`,
    )
    .action(run(async () => (await import("./commands/rotate.js")).rotateResume));
  rotate
    .command("status")
    .description("rotations and where each key stands")
    .argument("[id]", "only this rotation")
    .option("--json", "print JSON")
    .addHelpText("after", examples("keyward rotate status", "keyward rotate status rot-k3f9q2 --json"))
    .action(run(async () => (await import("./commands/rotate.js")).rotateStatus));
  rotate
    .command("abort")
    .description(
      "undo a rotation: where the old key is not revoked yet, its secret goes back to every target and the new key is deleted",
    )
    .argument("[id]", "the rotation id (default: the unfinished one)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
For each key whose old key is not revoked yet, the old secret is delivered back to every target (where
Keyward holds it) and the new key is deleted on the exchange. A key past that point (its old key already
revoked, or an in-place reset already sent) cannot be undone: abort says so and leaves it for \`rotate resume\`.
${JOURNAL_CHECK}
${examples("keyward rotate abort", "keyward rotate abort rot-k3f9q2 --json")}`,
    )
    .action(run(async () => (await import("./commands/rotate.js")).rotateAbort));

  const audit = program
    .command("audit")
    .description(
      "the audit log: every action that changed a key, an account or the vault (tamper-evident: `audit verify`)",
    )
    .action(run(async () => (await import("./commands/audit-list.js")).auditList));
  auditListOptions(audit, examples);
  audit
    .command("verify")
    .description("check the chain and its MACs with the vault's key; exits 1 naming the first broken entry")
    .option("--json", "print JSON")
    .option(
      "--expect-head <SEQ:HASH>",
      "a head printed earlier by `keyward audit head`: the log must still hold it",
    )
    .addHelpText(
      "after",
      `
Opens the vault (the audit key is in it) and state.db read-only; writes nothing. Exit 0: intact;
1: broken (the first broken entry and why); 2: usage, or the vault cannot be opened.

Every entry is hash-chained to the one before it and carries an HMAC-SHA256 made with a 256-bit key
kept only in the (age-encrypted) vault; the head (last entry) is recorded with a MAC in state.db and in
audit-head.json beside it. verify DETECTS, with only state.db (and audit-head.json) in an attacker's hands:
  - an entry edited, inserted or deleted, even if the chain and head are recomputed (no key, no MAC);
  - the newest entries deleted, or every entry deleted (keying writes an audit.keyed entry, and the vault
    records where keying began, so a keyed log is never empty);
  - stored details that are not the canonical JSON the hash was made over;
  - a missing state.db, audit table or head (reported as broken, exit 1);
  - state.db put back to an older copy, while audit-head.json is newer (it is written after the commit
    of every entry, rotation steps included, under a MAC of its own that no head row can reuse);
  - audit-head.json deleted or garbled (on a keyed log it must be there; one that lags behind the log,
    as a crash right after a commit can leave it, is accepted);
  - with --expect-head: any rollback or rewrite behind a head you copied off the machine earlier.
It CANNOT detect:
  - anyone who holds the vault passphrase (they have the key: they can rewrite and re-MAC everything);
  - a rotation's journal tampered with: resume and abort check it themselves (JOURNAL_TAMPERED);
  - state.db AND audit-head.json both put back to an older copy, unless you give --expect-head with a
    head copied after it (copy \`keyward audit head\` to a ticket, chat or another machine regularly);
  - vault.age replaced with a copy from before the log was keyed;
  - entries written before keying (homes from older Keyward versions): only their chain is checked, and
    the vault pins the last of them. Such a home is keyed by the first command that opens its vault
    with state.db writable; everything after that is authenticated.
${examples(
  "keyward audit verify",
  "keyward audit verify --json",
  "keyward audit verify --expect-head 42:3f9c0e…   # the line `keyward audit head` printed",
)}`,
    )
    .action(
      run(async () => {
        const { auditVerify } = await import("./commands/audit.js");
        // `audit` has a --json of its own, and commander gives it the flag even after `verify`: read both.
        return (globals: GlobalOptions, _opts: { json?: boolean }, command: Command) =>
          auditVerify(globals, command.optsWithGlobals<{ json?: boolean; expectHead?: string }>());
      }),
    );
  audit
    .command("head")
    .description(
      "verify the log, then print its head as SEQ:HASH, to copy somewhere an attacker cannot write",
    )
    .option("--json", "print JSON: {seq, hash, entries, at}")
    .addHelpText(
      "after",
      `
Prints one line, SEQ:HASH (sequence number and hash of the newest entry), after verifying the log as
\`audit verify\` does (exit 1, and no head, if it is broken). Keep it off this machine; later,
\`keyward audit verify --expect-head SEQ:HASH\` proves the log still holds that entry unchanged, which
catches a rollback to an earlier, self-consistent state that verify alone cannot.
${examples(
  "keyward audit head",
  "keyward audit head >> /mnt/evidence/keyward-heads.txt",
  'keyward audit verify --expect-head "$(tail -1 /mnt/evidence/keyward-heads.txt)"',
)}`,
    )
    .action(
      run(async () => {
        const { auditHead } = await import("./commands/audit.js");
        return (globals: GlobalOptions, _opts: { json?: boolean }, command: Command) =>
          auditHead(globals, command.optsWithGlobals<{ json?: boolean }>());
      }),
    );

  program
    .command("web")
    .description("serve the web app (inventory, bulk revoke, rotation, audit log, accounts) on this machine")
    .option("--port <n>", "port to listen on (0: any free port)", "7420")
    .option(
      "--host <address>",
      "address to listen on; anything but loopback needs --allow-remote and TLS; never every interface (0.0.0.0, ::, 0, ::ffff:0.0.0.0…)",
      "127.0.0.1",
    )
    .option("--allow-remote", "allow a non-loopback --host (requires --tls-cert and --tls-key)")
    .option("--tls-cert <file>", "PEM certificate: serve HTTPS")
    .option("--tls-key <file>", "PEM private key of the certificate")
    .addHelpText(
      "after",
      `
Prints a URL with a one-time login token (it works once; each login prints the next one). The token
becomes an HttpOnly, SameSite=Strict session cookie plus a per-session secret that the page keeps in
this browser tab only; the cookie alone opens nothing. Open the URL in the tab you will use. Runs
started by \`keyward rotate\` with a target that runs a program or --check-cmd are resumed and aborted
here, never in the browser: a browser session must not be able to run commands on this machine, so the
web app offers only the delivery targets that run no program. The vault passphrase is asked now (or taken from $KEYWARD_PASSPHRASE) and
the server holds the opened home until Ctrl-C.

Examples:
  keyward web
  keyward web --port 8443 --host keyward.desk.internal --allow-remote --tls-cert cert.pem --tls-key key.pem`,
    )
    .action(run(async () => (await import("./commands/web.js")).web));

  registerCheck(program, run);
  registerScan(program, run);
  return program;
}

/** Wraps text to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

/** One help line per target kind (`age:DIR  …`), wrapped under its form. */
function targetUsage(core: typeof import("@keyward/core")): string[] {
  const { DELIVERY_TARGETS } = core;
  const column = Math.max(...DELIVERY_TARGETS.map((d) => d.usage.form.length)) + 4;
  return DELIVERY_TARGETS.map(
    (d) => `  ${d.usage.form.padEnd(column - 2)}${wrap(d.usage.text, 106 - column, " ".repeat(column))}`,
  );
}

/**
 * `key create`'s target kinds' own options (e.g. `--recipient` for `age:`) and the targets' forms, from
 * the same list as `rotate plan`'s, so every target `rotate plan` takes, `key create` takes too.
 */
function addTargetOptions(create: Command, core: typeof import("@keyward/core")): void {
  for (const option of core.TARGET_OPTIONS) create.option(option.flag, option.help);
  create.addHelpText(
    "after",
    `\nTargets (as \`rotate plan --deliver\`; see \`keyward rotate plan --help\`):\n${targetUsage(core).join("\n")}`,
  );
}

/**
 * `rotate plan`'s `--deliver`, each target kind's own options, and the help about targets (forms,
 * what each writes, examples), generated from core's list of delivery targets; and `rotate`'s examples.
 */
function addTargetHelp(rotate: Command, plan: Command, core: typeof import("@keyward/core")): void {
  const { DELIVERY_TARGETS, PLACEHOLDERS, TARGET_EXAMPLE, TARGET_FORMS, TARGET_OPTIONS } = core;
  plan.option("--deliver <target...>", `where the new credentials go: ${TARGET_FORMS} (repeatable)`);
  for (const option of TARGET_OPTIONS) plan.option(option.flag, option.help);
  plan
    .option("-o, --output <file>", "write the plan (JSON, no secrets, mode 0600) to this file")
    .option("--json", "print the plan as JSON (the same document -o writes)");
  const usage = targetUsage(core);
  // One example per target, each with another way to select keys and to keep the plan.
  const selections = ["--label 'bot-*'", "--account desk-alpha", `--exchange ${TRACKED.id}`, "--risky"];
  const keep = ["-o plan.json", "--json > plan.json"];
  const example = (d: (typeof DELIVERY_TARGETS)[number], i: number) =>
    `  keyward rotate plan ${selections[i % selections.length]} --deliver '${d.example}'${d.options
      .map((o) => ` ${o.flag.split(" ")[0]} ${o.placeholder}`)
      .join("")} ${keep[i % keep.length]}`;
  plan.addHelpText(
    "after",
    `
Targets (placeholders ${PLACEHOLDERS} make one target serve many keys):
${usage.join("\n")}
A replaced file keeps its owner, group and mode (a new one is 0600). Relative paths are taken from the
current directory. Refused: a target leading into Keyward's home (symlinks followed), a symlink in (or
below) a folder another user owns or may write, a file in (or below) a world-writable folder such as /tmp
or an existing file every user may write, a placeholder that expands to ".", ".." or nothing in a path.
The plan file is written 0600; \`rotate apply\` refuses one another user owns, may write or could swap.

Examples:
${DELIVERY_TARGETS.map(example).join("\n")}`,
  );
  rotate.addHelpText(
    "after",
    `
Examples:
  keyward rotate plan --label 'bot-*' --deliver '${TARGET_EXAMPLE}' -o plan.json
  keyward rotate apply plan.json --grace 2m --check-cmd 'systemctl reload trading-bots'
  keyward rotate status
  keyward rotate resume
  keyward rotate abort`,
  );
}
