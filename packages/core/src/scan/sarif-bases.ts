/**
 * SARIF's URI bases (scan/sarif.ts): one per scanned root (ROOT1, …) and one per repository whose history
 * was read (REPO1, …), and which base and relative URI each place is under. Apart from sarif.ts so each
 * stays short; see its header for the choices.
 */
import { posix, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { LeakLocation, ScanReport } from "./scan-types.js";

/** Forward slashes, normalized, no trailing slash (roots are "as given": "./srv/", "srv\\app"). */
const slashed = (path: string): string => {
  const s = posix.normalize(path.replace(/\\/g, "/"));
  return s.length > 1 ? s.replace(/\/+$/, "") : s;
};

/** A relative path as a URI reference: each segment percent-encoded ("my file" → "my%20file"). */
const uriOf = (relativePath: string): string => relativePath.split("/").map(encodeURIComponent).join("/");

export interface Base {
  id: string;
  /** The folder, slashed, that paths are made relative to. */
  folder: string;
  /** A repository's top, absolute (its URI is always given: a reader must find the repository's root). */
  absolute?: string;
  /**
   * A repository found from a root given relative: its top relative to that root's base (`../`), never
   * resolved to an absolute path (which would put this machine's user name and layout in a log meant to
   * be attached to tickets, when the root's own base gives none).
   */
  under?: { id: string; uri: string };
}

/**
 * Which root a location belongs to and its path under it. History locations name their repository
 * (the root as given) and hold a path in it; file locations hold the root joined with the path under it.
 */
export function placeOf(
  location: LeakLocation,
  roots: readonly string[],
  bases: Map<string, Base>,
): { base?: Base; uri: string } {
  const path = slashed(location.path);
  if (location.repository !== undefined) {
    const base = bases.get(`${slashed(location.repository)}\0repo`);
    return { ...(base ? { base } : {}), uri: uriOf(path.replace(/^\/+/, "")) };
  }
  // The longest root that holds the path (roots may nest: "srv" and "srv/app").
  let best: string | undefined;
  for (const root of roots.map(slashed)) {
    const holds = path === root || path.startsWith(root === "/" ? "/" : `${root}/`);
    if (holds && (best === undefined || root.length > best.length)) best = root;
  }
  if (best === undefined) return { uri: uriOf(path) };
  if (path === best) {
    // The root is this file: its folder is the base.
    const base = bases.get(`${best}\0file`);
    return { ...(base ? { base } : {}), uri: uriOf(posix.basename(path)) };
  }
  const base = bases.get(best);
  return { ...(base ? { base } : {}), uri: uriOf(posix.relative(best, path)) };
}

/** An absolute URI for a folder given absolute (ends with "/", as SARIF requires of a base); else undefined. */
export function folderUri(folder: string): string | undefined {
  if (!folder.startsWith("/")) return undefined;
  const href = pathToFileURL(folder).href;
  return href.endsWith("/") ? href : `${href}/`;
}

/** The bases: one per root, plus one per root that is a file (its folder). */
export function basesOf(report: ScanReport): Map<string, Base> {
  const bases = new Map<string, Base>();
  const fileRoots = new Set<string>();
  const places = [...report.findings.flatMap((f) => f.locations), ...report.stats.skippedSources];
  for (const l of places) {
    if (l.repository === undefined && report.roots.some((r) => slashed(r) === slashed(l.path))) {
      fileRoots.add(slashed(l.path));
    }
  }
  report.roots.forEach((root, i) => {
    const folder = slashed(root);
    const id = `ROOT${i + 1}`;
    if (fileRoots.has(folder)) bases.set(`${folder}\0file`, { id, folder: posix.dirname(folder) });
    else bases.set(folder, { id, folder });
  });
  // History paths are from their repository's top (which may be above the root given): one base per
  // repository, REPO1, REPO2, …, its absolute URI always given (resolved here when the root was relative).
  const repos = [
    ...new Set(places.flatMap((l) => (l.repository === undefined ? [] : [slashed(l.repository)]))),
  ];
  const relativeRoots = [...bases.values()].filter((b) => !b.folder.startsWith("/"));
  repos.sort().forEach((repo, i) => {
    const id = `REPO${i + 1}`;
    // The root that led to it: the repository's top is that root's folder or above it.
    const led = relativeRoots.find((b) => !posix.relative(repo, b.folder).startsWith(".."));
    const root = repo.startsWith("/") ? undefined : (led ?? relativeRoots[0]);
    if (root === undefined) {
      bases.set(`${repo}\0repo`, { id, folder: repo, absolute: slashed(resolve(repo)) });
      return;
    }
    const rel = posix.relative(posix.normalize(root.folder), posix.normalize(repo));
    bases.set(`${repo}\0repo`, {
      id,
      folder: repo,
      under: { id: root.id, uri: rel === "" ? "./" : `${uriOf(rel)}/` },
    });
  });
  return bases;
}
