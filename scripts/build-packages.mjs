// Builds the three publishable packages in their folders, from the same
// sources as the repository's own build:
//   client/  → @cairn-kv/client   (dist/client, and the generated protobuf code it uses in dist/proto)
//   recipes/ → @cairn-kv/recipes  (dist/recipes; the SDK is its dependency, not a copy)
//   server/  → @cairn-kv/server   (dist/server, dist/proto, proto/*.proto, which the JSON gateway reads,
//                                  and dist/console, the web console built by Vite)
// Each gets the repository's LICENSE. Then `npm pack` in a folder makes its
// tarball (test/packaging/ does, and installs them into a new app).
//
// Usage: node scripts/build-packages.mjs
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
/** How the recipes' sources name the SDK, and how the published recipes name it. */
const sdkSourceSpecifier = '../client/index.js';
const sdkPackageName = JSON.parse(readFileSync(join(root, 'client', 'package.json'), 'utf8')).name;
/** The .proto files the server loads at run time (server/http/gateway/json-codec.ts) and the ones they import. */
const runtimeProtos = ['etcdserverpb', 'v3lockpb', 'v3electionpb', 'mvccpb', 'authpb'];

for (const name of ['client', 'recipes', 'server']) {
  const folder = join(root, name);
  rmSync(join(folder, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', join(folder, 'tsconfig.package.json')], { stdio: 'inherit' });
  cpSync(join(root, 'LICENSE'), join(folder, 'LICENSE'));
}

// tsc follows the recipes' relative imports into client/ and emits it again: drop that copy and
// point the recipes at the SDK package instead.
const recipesDist = join(root, 'recipes', 'dist');
for (const entry of readdirSync(recipesDist)) {
  if (entry !== 'recipes') rmSync(join(recipesDist, entry), { recursive: true, force: true });
}
for (const file of filesUnder(join(recipesDist, 'recipes'))) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const rewritten = text.split(`'${sdkSourceSpecifier}'`).join(`'${sdkPackageName}'`).split(`"${sdkSourceSpecifier}"`).join(`"${sdkPackageName}"`);
  for (const specifier of relativeSpecifiers(rewritten)) {
    const target = resolve(dirname(file), specifier);
    if (!target.startsWith(join(recipesDist, 'recipes'))) throw new Error(`${relative(root, file)} imports ${specifier}, outside the recipes package`);
  }
  writeFileSync(file, rewritten);
}

// The web console, built as `npm run build:ui` builds it, sits beside dist/server as in the repository's dist/.
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'ui', 'tsconfig.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(root, 'ui', 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit', cwd: root });
cpSync(join(root, 'dist', 'console'), join(root, 'server', 'dist', 'console'), { recursive: true });

const serverProto = join(root, 'server', 'proto');
rmSync(serverProto, { recursive: true, force: true });
for (const folder of runtimeProtos) cpSync(join(root, 'proto', folder), join(serverProto, folder), { recursive: true });

for (const name of ['client', 'recipes', 'server']) {
  if (!existsSync(join(root, name, 'dist', name, name === 'server' ? 'main.js' : 'index.js'))) throw new Error(`${name}: the build left no entry point`);
}
if (!existsSync(join(root, 'server', 'dist', 'console', 'index.html'))) throw new Error('server: the build left no web console');

function filesUnder(folder) {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The relative module specifiers of an emitted file (import/export … from '…', import('…')). */
function relativeSpecifiers(text) {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) => match[1]);
}
