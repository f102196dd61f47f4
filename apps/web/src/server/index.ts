/**
 * @keyward/web: the browser shell over @keyward/core. `keyward web` (apps/cli) calls startWebServer;
 * the demo, the tests and the performance script also use setupHome to build a home through core.
 */
export { type HomeSeed, type SeedAccount, type SeedTrackedKey, setupHome } from "./home-setup.js";
export { HttpError } from "./http-errors.js";
export {
  checkListen,
  DEFAULT_HOST,
  DEFAULT_PORT,
  isLoopback,
  isUnspecified,
  type ListenOptions,
  normalizeHost,
} from "./listen.js";
export { CONTENT_SECURITY_POLICY, SESSION_COOKIE, SESSION_SECRET_HEADER } from "./security.js";
export { startWebServer, type WebServer, type WebServerOptions } from "./server.js";
