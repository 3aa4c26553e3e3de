/**
 * The server's import direction, as the README's layout draws it: the Raft core at the bottom, the
 * domain modules above it, gRPC only at the edge (api/, transport/, grpc/, http/), and api/ at the top,
 * imported by the composition root (server.ts) and by the client port's HTTP face (http/) alone. This reads the import statements of every non-test
 * .ts file under server/ with the TypeScript parser (so comments, strings, multi-line imports,
 * re-exports and dynamic imports are seen as the compiler sees them) and checks each against the
 * rules below. What server/raft may *use* (no I/O, time, randomness) is test/sim/purity.test.ts's
 * business; here only what it imports.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';
import { repositoryRoot, sourceFiles } from './harness/sources.js';

/** One import of a file: what it names, resolved to a repository path (or a package name). */
interface Import {
  /** `server/api/unary.ts`, `proto/gen/raftpb/raft.ts`, or a package such as `@grpc/grpc-js`, `node:fs`. */
  target: string;
  /** Erased when compiled (`import type`, or only `type` names): no runtime dependency. */
  typeOnly: boolean;
  line: number;
}

interface Rule {
  /** The rule, as a sentence a failure prints. */
  rule: string;
  /** Whether the rule applies to the file at this repository path. */
  appliesTo(file: string): boolean;
  refuses(found: Import): boolean;
}

const inFolder = (file: string, ...folders: string[]): boolean => folders.some((folder) => file.startsWith(`server/${folder}/`));
/** The composition root: it builds the gRPC servers and wires every layer together. */
const compositionRoot = 'server/server.ts';
/** Where gRPC is known: the client services, the peer transport, what the two share, and the client port's HTTP face (which hands gRPC connections over). */
const grpcEdge = ['api', 'transport', 'grpc', 'http'];

const rules: Rule[] = [
  {
    rule: 'server/raft/ is the pure core: it imports only server/raft/ (and, type-only, the raftpb messages it owns, as etcd-io/raft owns raftpb)',
    appliesTo: (file) => inFolder(file, 'raft'),
    refuses: (found) => !(found.target.startsWith('server/raft/') || (found.typeOnly && found.target.startsWith('proto/gen/raftpb/'))),
  },
  {
    rule: 'nothing below the client services imports server/api/: only the composition root (server/server.ts) and the client port\'s other face, HTTP (server/http/), do',
    appliesTo: (file) => !inFolder(file, 'api', 'http') && file !== compositionRoot,
    refuses: (found) => found.target.startsWith('server/api/'),
  },
  {
    rule: 'only the gRPC edge (server/api/, server/transport/, server/grpc/, server/http/) and the composition root import @grpc/grpc-js',
    appliesTo: (file) => !inFolder(file, ...grpcEdge) && file !== compositionRoot,
    refuses: (found) => found.target === '@grpc/grpc-js' || found.target.startsWith('@grpc/'),
  },
  {
    rule: 'the shared gRPC module (server/grpc/) serves the gRPC edge and the composition root only: domain modules raise typed errors instead',
    appliesTo: (file) => !inFolder(file, ...grpcEdge) && file !== compositionRoot,
    refuses: (found) => found.target.startsWith('server/grpc/'),
  },
];

/** Every import of `text`, the source of the file at repository path `file`. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean, node: ts.Node): void => {
    if (specifier === undefined || !ts.isStringLiteralLike(specifier)) return;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push({ target: resolve(file, specifier.text), typeOnly, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, importIsTypeOnly(node), node);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) add(node.moduleSpecifier, node.isTypeOnly, node);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node.isTypeOnly, node);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false, node);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true, node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `import type …`, or `import { type A, type B } …`: nothing of it is left after compiling. */
function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false; // import './x.js': run for its effects
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

/** A relative specifier as the repository path of the .ts file it names; a package as its name. */
function resolve(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
}

/** Each of `imports` (those of `file`) that `rule` refuses, as a line naming the file, the import and the rule. */
function refusals(file: string, imports: Import[], { rule, appliesTo, refuses }: Rule): string[] {
  if (!appliesTo(file)) return [];
  return imports.filter(refuses).map((found) => `${file}:${found.line} imports ${found.target}: ${rule}`);
}

/** What every rule refuses of `text`, the source of the file at repository path `file`. */
function violations(file: string, text: string): string[] {
  const imports = importsOf(file, text);
  return rules.flatMap((rule) => refusals(file, imports, rule));
}

describe('server layering: the import direction', () => {
  const importsByFile = new Map<string, Import[]>();
  before(() => {
    for (const file of sourceFiles('server')) importsByFile.set(file, importsOf(file, readFileSync(join(repositoryRoot, file), 'utf8')));
  });

  it('reads the imports of every server source file', () => {
    expect(importsByFile.size).to.be.greaterThan(80);
    expect([...importsByFile.keys()]).to.include.members(['server/raft/raft.ts', 'server/api/kv.ts', 'server/grpc/errors.ts', 'server/transport/peer-client.ts']);
    const imports = [...importsByFile.values()].flat();
    // The edge does import what the rules keep from the rest: the scan sees such imports at all.
    expect(imports.some((found) => found.target === '@grpc/grpc-js')).to.equal(true);
    expect(imports.some((found) => found.target.startsWith('server/api/'))).to.equal(true);
  });

  for (const rule of rules) {
    it(`holds: ${rule.rule}`, () => {
      const problems = [...importsByFile].flatMap(([file, imports]) => refusals(file, imports, rule));
      expect(problems.join('\n')).to.equal('');
    });
  }

  it('the checker flags a planted bad import of each kind, however it is written', () => {
    const planted: Array<[string, string, number]> = [
      ['server/transport/x.ts', "import { unary } from '../api/unary.js';", 1],
      ['server/node/x.ts', "import {\n  checkPut,\n} from '../api/validate.js';", 1],
      ['server/coordination/x.ts', "export { respond } from '../api/lock.js';", 1],
      ['server/apply/x.ts', "const { status } = await import('@grpc/grpc-js');", 1],
      ['server/mvcc/x.ts', "import type { ServiceError } from '@grpc/grpc-js';", 1],
      ['server/requests/x.ts', "import { RequestError } from '../grpc/errors.js';", 1],
      ['server/raft/x.ts', "import { NoLeaderError } from '../node/errors.js';", 1],
      ['server/raft/x.ts', "import { Entry } from '../../proto/gen/raftpb/raft.js';", 1],
      ['server/clock.ts', "import type { ServiceContext } from './api/context.js';", 1],
      ['server/lease/x.ts', "import '../api/kv.js';", 1],
    ];
    for (const [file, text, count] of planted) {
      expect(violations(file, text), `${file}: ${text}`).to.have.length(count);
    }
  });

  it('the checker passes what the rules allow, and what only looks like an import', () => {
    const allowed: Array<[string, string]> = [
      ['server/raft/x.ts', "import { Progress } from './progress.js';\nimport type { Entry } from '../../proto/gen/raftpb/raft.js';"],
      ['server/raft/testing/x.ts', "import { RawNode } from '../rawnode.js';"],
      ['server/transport/x.ts', "import { credentials } from '@grpc/grpc-js';\nimport { unary } from '../grpc/unary.js';"],
      ['server/api/x.ts', "import { Coordination } from '../coordination/coordination.js';"],
      ['server/server.ts', "import { kvService } from './api/kv.js';\nimport { Server } from '@grpc/grpc-js';"],
      ['server/node/x.ts', "// import { unary } from '../api/unary.js';\nconst text = \"import { x } from '../api/kv.js'\";\n/* import '@grpc/grpc-js'; */"],
    ];
    for (const [file, text] of allowed) {
      expect(violations(file, text), `${file}: ${text}`).to.deep.equal([]);
    }
  });
});
