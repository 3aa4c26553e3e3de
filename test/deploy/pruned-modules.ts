// What the image's node_modules holds after the build stage's
// `npm prune --omit=dev`, worked out from package-lock.json (the prune
// itself cannot run here: node_modules is shared), and what the server's
// compiled code imports from it, found by following its imports from
// dist/server/main.js.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { repositoryRoot } from '../harness/sources.js';

interface LockEntry {
  dev?: boolean;
}

/** The top-level packages the prune leaves: those package-lock.json does not mark dev, and that are installed here. */
export function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(repositoryRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && !path.slice('node_modules/'.length).includes('node_modules/') && entry.dev !== true)
    .map(([path]) => path.slice('node_modules/'.length))
    .filter((name) => existsSync(join(repositoryRoot, 'node_modules', name)));
}

/**
 * The module specifiers of tsc's output: `import … from 'x';` and
 * `export … from 'x';` (a multi-line one ends `} from "x";`), `import "x";`,
 * and `import("x")` of a literal. Anchored to statements, so that text in a
 * string ("… from \"x\"") is not taken for an import.
 */
const importPatterns = [
  /^\s*(?:import|export)\b[^;\n]*?\bfrom\s*(["'])([^"'\n]+)\1;\s*$/gm,
  /^\s*\}\s*from\s*(["'])([^"'\n]+)\1;\s*$/gm,
  /^\s*import\s*(["'])([^"'\n]+)\1;\s*$/gm,
  /\bimport\(\s*(["'])([^"'\n]+)\1\s*\)/g,
];

/** The package a bare specifier names: '@scope/name/sub' → '@scope/name', 'name/sub' → 'name'. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/**
 * The packages the compiled files reachable from `entry` import, following
 * relative imports (static, re-exports and import() of a literal).
 */
export function importedPackages(entry: string): Set<string> {
  const builtins = new Set(builtinModules);
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [resolve(entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of importPatterns.flatMap((pattern) => [...text.matchAll(pattern)])) {
      const specifier = match[2] as string;
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtins.has(specifier)) packages.add(packageOf(specifier));
    }
  }
  return packages;
}
