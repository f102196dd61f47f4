/**
 * What app.ts hands the route groups. Each group takes only the parts it uses (a Pick of this), so its
 * signature says what it can touch.
 */
import type { KeywardHome } from "@keyward/core";
import type { InventoryService } from "../inventory-service.js";
import type { Send } from "../responses.js";
import type { RevokeJobs } from "../revoke-jobs.js";
import type { RotationJobs } from "../rotation-jobs.js";
import type { ScanJobs } from "../scan-jobs.js";
import type { SecondFactorDesk } from "../second-factor.js";
import type { SecretGuard } from "../secret-guard.js";
import type { SessionCookies } from "../session-cookies.js";

export interface RouteContext {
  home: KeywardHome;
  inventory: InventoryService;
  jobs: RevokeJobs;
  rotations: RotationJobs;
  /** Leak scans of a folder on this machine (the Scan page: scan-jobs.ts). */
  scans: ScanJobs;
  /** Second-factor challenges shown on the jobs' pages (second-factor.ts). */
  secondFactor: SecondFactorDesk;
  cookies: SessionCookies;
  /** Streamed events pass the guard one by one (job-events.ts), so the routes that stream need it. */
  guard: SecretGuard;
  log: (line: string) => void;
  send: Send;
}
