/** The SQLite StateStore against the shared state-store suite (`@keyward/core/testing`). */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStateStore } from "../src/store/sqlite/sqlite-state-store.js";
import { testStateStore } from "../src/testing/index.js";

testStateStore({
  name: "SQLite",
  async create() {
    const dir = mkdtempSync(join(tmpdir(), "keyward-state-store-"));
    const path = join(dir, "state.db");
    const opened = [SqliteStateStore.open(path)];
    const [store] = opened as [SqliteStateStore];
    return {
      store,
      async another(options = {}) {
        const other = SqliteStateStore.open(path, options);
        opened.push(other);
        return other;
      },
      async freeze() {
        chmodSync(path, 0o400);
      },
      async dispose() {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
