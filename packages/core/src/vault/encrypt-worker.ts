/**
 * The vault's encryption thread (see encrypt-pool.ts). age-encryption runs scrypt in pure JS,
 * synchronously (~0.3 s at the vault's work factor); here it blocks only this thread. Jobs arrive as
 * messages (in memory: never argv or env) and the ciphertext goes back the same way.
 */
import { parentPort } from "node:worker_threads";
import { Encrypter } from "age-encryption";

interface Job {
  id: number;
  plaintext: string;
  passphrase: string;
  workFactor: number;
}

parentPort?.on("message", async (job: Job) => {
  try {
    const encrypter = new Encrypter();
    encrypter.setScryptWorkFactor(job.workFactor);
    encrypter.setPassphrase(job.passphrase);
    const ciphertext = await encrypter.encrypt(job.plaintext);
    parentPort?.postMessage({ id: job.id, ciphertext }, [ciphertext.buffer as ArrayBuffer]);
  } catch {
    // Never the error itself: it could quote what it was given.
    parentPort?.postMessage({ id: job.id, ciphertext: null });
  }
});
