// The runtime image's files, laid out in a directory as the Dockerfile's
// COPY --from=<build stage> lines lay them out in the image, so that a
// member runs from exactly the files the image holds: a file the server
// needs and the image lacks (the .proto files the JSON gateway reads, say)
// fails here as it would in a container.
//
// The build stage's WORKDIR is this checkout, whose dist/ the tests were
// compiled into. node_modules holds links to the checkout's packages, only
// those the build stage's prune leaves (pruned-modules.ts): a package the
// server imports that the prune removes fails here as in the image.
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repositoryRoot } from '../harness/sources.js';
import type { ImageConfig, Stage } from './dockerfile.js';
import { imageConfig } from './dockerfile.js';
import { productionPackages } from './pruned-modules.js';

/** Lays the image's files out under `root` (the container's /); returns the paths made, as the image names them. */
export function stageImage(stages: readonly Stage[], root: string): string[] {
  const runtime = stages.at(-1);
  if (runtime === undefined) throw new Error('the Dockerfile has no stage');
  const image: ImageConfig = imageConfig(runtime);
  const made: string[] = [];
  for (const copy of image.copies) {
    const build = stages.find((stage) => stage.name === copy.from);
    if (copy.from === undefined || build === undefined) throw new Error(`COPY ${copy.sources.join(' ')}: the runtime stage copies only from the build stage`);
    const [source, ...more] = copy.sources;
    if (source === undefined || more.length > 0) throw new Error(`COPY ${copy.sources.join(' ')}: one source per line in the runtime stage`);
    const inBuild = relative(imageConfig(build).workdir, source);
    const target = join(root, copy.destination);
    mkdirSync(dirname(target), { recursive: true });
    if (inBuild === 'node_modules') stageModules(target, productionPackages());
    else cpSync(join(repositoryRoot, inBuild), target, { recursive: true });
    made.push(copy.destination);
  }
  return made;
}

/** A node_modules of links to the checkout's `packages` (a package's own dependencies resolve from where the link points). */
function stageModules(target: string, packages: readonly string[]): void {
  for (const name of packages) {
    const link = join(target, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(repositoryRoot, 'node_modules', name), link, 'dir');
  }
}
