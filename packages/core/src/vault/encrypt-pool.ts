/**
 * Vault encryption off the main thread: one long-lived worker (encrypt-worker.ts), started on first use
 * or by `prepareEncryption()`, kept warm (scrypt in a cold worker runs far slower) and unref'd while idle
 * so it never keeps a process alive. Why: scrypt blocks its thread for ~0.3 s per save, and a rotation
 * saving each new secret at once would otherwise stall every timer, rate-limit slot and answer meanwhile.
 * Where no worker can run (tests running the TypeScript sources, a crashed worker), `encryptOffThread`
 * answers undefined and the vault encrypts in-thread as before. The output is an ordinary age file.
 */
import { stat } from "node:fs/promises";
import type { Worker } from "node:worker_threads";

interface Pool {
  worker: Worker;
  jobs: Map<number, (ciphertext: Uint8Array | undefined) => void>;
  next: number;
}

let pool: Promise<Pool | undefined> | undefined;

function start(): Promise<Pool | undefined> {
  pool ??= (async () => {
    const url = new URL("./encrypt-worker.js", import.meta.url);
    try {
      await stat(url);
    } catch {
      return undefined;
    }
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(url);
    const p: Pool = { worker, jobs: new Map(), next: 1 };
    const fail = () => {
      for (const resolve of p.jobs.values()) resolve(undefined);
      p.jobs.clear();
      pool = Promise.resolve(undefined);
    };
    worker.on("message", (m: { id: number; ciphertext: Uint8Array | null }) => {
      const resolve = p.jobs.get(m.id);
      p.jobs.delete(m.id);
      if (p.jobs.size === 0) worker.unref();
      resolve?.(m.ciphertext ?? undefined);
    });
    worker.on("error", fail);
    worker.on("exit", fail);
    // After the listeners: attaching a "message" listener refs the worker again.
    worker.unref();
    return p;
  })();
  return pool;
}

/** Starts the worker ahead of the first save (it loads age-encryption and warms up meanwhile). */
export async function prepareEncryption(): Promise<void> {
  await start();
}

export async function encryptOffThread(
  plaintext: string,
  passphrase: string,
  workFactor: number,
): Promise<Uint8Array | undefined> {
  const p = await start();
  if (!p) return undefined;
  const id = p.next++;
  return new Promise((resolve) => {
    p.jobs.set(id, resolve);
    p.worker.ref();
    p.worker.postMessage({ id, plaintext, passphrase, workFactor });
  });
}
