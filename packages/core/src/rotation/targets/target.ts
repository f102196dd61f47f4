/**
 * The delivery-target driver interface. A target is where a rotated key's new credentials go, written
 * `KIND:WHERE` on the command line (or in the web form) and stored parsed in the plan file and the
 * rotation journal (never with a secret in it). Each kind is one driver in its own file (dotenv.ts,
 * json.ts, age.ts, exec.ts), listed once in index.ts; parsing, descriptions, clash detection, delivery,
 * the `--help` text, the web's allow-list and the kind's own options (the age recipient) all come from
 * the driver, so nothing outside this folder names a kind. Every driver runs the shared suite
 * `testTarget` (@keyward/core/testing).
 */
import type { z } from "zod";
import { KeywardError } from "../../errors.js";
import type { DeliveryContext, DeliveryPayload } from "./payload.js";

/** The names of what each placeholder stands for, per key. */
export interface TargetVars {
  account: string;
  sub: string;
  label: string;
  exchange: string;
  slot: number;
}

/** What a driver's `parse` gets besides the text after `KIND:`. */
export interface TargetParseContext {
  /** The whole value as given (`KIND:…`), for error messages. */
  readonly text: string;
  /** The key's placeholder values (`{account}`, `{sub}`, `{label}`, `{exchange}`, `{slot}`). */
  readonly vars: TargetVars;
  /**
   * Relative paths are made absolute against this directory; null refuses them (the web server: a
   * browser has no current directory, and the server's own is Keyward's home).
   */
  readonly cwd: string | null;
  /** Throws the TargetParseError for `field` (its hint lists every kind's form). */
  fail(field: string, why: string): never;
}

/**
 * A `--deliver` value that cannot be parsed: CONFIG_INVALID, naming the value, what is wrong with it,
 * and in `field` which part (`kind`, or the driver's own: `path`, `prefix`, `pointer`, `dir`, `command`).
 */
export class TargetParseError extends KeywardError {
  readonly field: string;
  constructor(text: string, field: string, why: string, hint: string) {
    super("CONFIG_INVALID", `--deliver ${JSON.stringify(text)}: ${why}`, { hint });
    this.field = field;
  }
}

/**
 * An option a kind needs besides its `KIND:WHERE` text, given once per plan (the age recipient). Its
 * `name` is the field in the plan file, in the web's plan request, and commander's name for `flag`.
 * Option values are not secret (they are written in the plan file).
 */
export interface TargetOption<Name extends string = string> {
  readonly name: Name;
  /** The command-line flag, commander style: `--recipient <age-public-key>`. */
  readonly flag: string;
  /** One line for `--help`. */
  readonly help: string;
  /** The web form's label and placeholder. */
  readonly label: string;
  readonly placeholder: string;
  /**
   * Checks a value (undefined: not given) and returns it normalised. Throws CONFIG_INVALID naming the
   * option when it is missing or wrong; called when a plan with a target of this kind is made, applied
   * and delivered, and when a person gives the option (even with no target of this kind).
   */
  check(value: string | undefined): Promise<string>;
}

/** A parsed target: what plans and the journal store. */
export interface ParsedTarget {
  kind: string;
}

export interface DeliveryTarget<T extends ParsedTarget = ParsedTarget, Name extends string = string> {
  readonly kind: T["kind"];
  /** The parsed target as the plan file stores it (strict: a plan edited to carry more is refused). */
  readonly schema: z.ZodType<T>;
  /** For `--help` and errors: the form (`dotenv:PATH[#PREFIX]`) and what Keyward writes there. */
  readonly usage: { readonly form: string; readonly text: string };
  /** A typical value with a placeholder, for hints (`dotenv:/srv/bots/.env#{label}`). */
  readonly example: string;
  /**
   * Whether a browser session may plan, resume or abort with it. False for a kind that runs programs
   * on the server's machine (exec): a browser session must not be able to do that.
   */
  readonly webAllowed: boolean;
  /** Options this kind needs once per plan (none for most). */
  readonly options: readonly TargetOption<Name>[];
  /** `spec` is the text after `KIND:`. Throws TargetParseError naming the field. */
  parse(spec: string, context: TargetParseContext): T;
  /** How the target shows in plans, progress and the audit log (no secret: targets hold none). */
  describe(target: T): string;
  /**
   * Two keys whose targets have the same clash key would overwrite each other (the same dotenv
   * variables, JSON object, age file); undefined for a target that never clashes (a command).
   */
  clashKey(target: T): string | undefined;
  /**
   * The file the target writes, checked when the plan is made and again before it is applied (place.ts:
   * never into Keyward's home, never through a symlink or into a folder another user can change);
   * `needsFolder`: its folder must exist already. Undefined for a target that writes no file.
   */
  place(target: T): { path: string; needsFolder: boolean } | undefined;
  /** Writes the payload's credentials; returns a line of evidence (no secret). */
  deliver(
    target: T,
    payload: DeliveryPayload,
    options: DeliveryContext & { readonly [K in Name]?: string | null },
  ): Promise<string>;
}
