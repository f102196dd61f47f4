import { describe, expect, it } from "vitest";
import { visibleText } from "../src/browser.js";
import { plainText } from "../src/index.js";

describe("text from outside, as people see it", () => {
  it("writes out a direction override instead of obeying it (a label that would draw as another key's)", () => {
    expect(visibleText("\u202E1-tobr")).toBe("\\u{202e}1-tobr");
  });

  it("writes out zero-width and other format or control characters, and leaves ordinary text alone", () => {
    expect(visibleText("mm\u200Bbot\uFEFF\u0007")).toBe("mm\\u{200b}bot\\u{feff}\\u{7}");
    expect(visibleText("mm-bot-1 ünïcödé 机器人")).toBe("mm-bot-1 ünïcödé 机器人");
  });

  it("the audit views' subjects drop every such character too, the bidi marks included", () => {
    expect(plainText("a\u200Eb\u061Cc\u2066d\u202Ee\u0000f")).toBe("a?b?c?d?e?f");
  });
});
