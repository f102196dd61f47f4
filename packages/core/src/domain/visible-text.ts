/**
 * Text from outside (an exchange's key label, a label a person gave) as the web pages show it: every
 * control, format, private-use or unassigned code point (Unicode category C, e.g. U+202E RIGHT-TO-LEFT
 * OVERRIDE, zero-width joiners, U+FEFF) is written out as `\u{202e}`. A browser would otherwise obey a
 * direction override and draw "rbot-1" from the label "\u202E1-tobr", beside the real rbot-1 in a revoke
 * review. The CLI escapes the same way (`terminalSafe`); React escapes HTML, so only these remain.
 */
export function visibleText(text: string): string {
  return text.replace(/\p{C}/gu, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}
