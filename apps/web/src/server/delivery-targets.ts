/**
 * What the rotation page shows about delivery targets, from core's list of target drivers: the kinds a
 * browser may use (a driver's `webAllowed`: those that write files) with their form and what they write,
 * the kinds only `keyward rotate` may use (they run programs on this machine), and each allowed kind's
 * own options (the plan request's fields, e.g. a recipient). The page renders it as it comes, so a new
 * target needs no change here or in the page.
 */
import { DELIVERY_TARGETS, PLACEHOLDERS } from "@keyward/core";

export interface DeliveryTargetsView {
  targets: { kind: string; form: string; text: string; example: string }[];
  /** Kinds only the command line may use. */
  cliOnly: string[];
  /** Fields of the plan request, by name, with the form's label and placeholder. */
  options: { name: string; label: string; placeholder: string }[];
  placeholders: string;
}

export function deliveryTargetsView(): DeliveryTargetsView {
  const allowed = DELIVERY_TARGETS.filter((d) => d.webAllowed);
  return {
    targets: allowed.map((d) => ({
      kind: d.kind,
      form: d.usage.form,
      text: d.usage.text,
      example: d.example,
    })),
    cliOnly: DELIVERY_TARGETS.filter((d) => !d.webAllowed).map((d) => d.kind),
    options: allowed.flatMap((d) =>
      d.options.map((o) => ({ name: o.name, label: o.label, placeholder: o.placeholder })),
    ),
    placeholders: PLACEHOLDERS,
  };
}
