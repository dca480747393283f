// Sizes of generator/src: files over 400 lines and functions (or class bodies) over 80 lines, with ts-morph.
//   npx tsx scripts/code-sizes.ts [--all]
import { Node, Project } from 'ts-morph';
import { relative } from 'node:path';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';

export interface Sizes {
  files: { file: string; lines: number }[];
  functions: { file: string; name: string; lines: number }[];
}

export function codeSizes(): Sizes {
  const project = new Project({ tsConfigFilePath: `${PROJECT_ROOT}/tsconfig.json`, skipAddingFilesFromTsConfig: true });
  project.addSourceFilesAtPaths(`${PROJECT_ROOT}/generator/src/**/*.ts`);
  const out: Sizes = { files: [], functions: [] };
  for (const sf of project.getSourceFiles()) {
    const file = relative(PROJECT_ROOT, sf.getFilePath());
    out.files.push({ file, lines: sf.getEndLineNumber() });
    sf.forEachDescendant((n) => {
      if (Node.isFunctionDeclaration(n) || Node.isMethodDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n) || Node.isClassDeclaration(n)) {
        const lines = n.getEndLineNumber() - n.getStartLineNumber() + 1;
        const named = (n as { getName?: () => string | undefined }).getName?.();
        const parent = n.getParent();
        const name = named ?? (Node.isVariableDeclaration(parent) || Node.isPropertyAssignment(parent) || Node.isPropertyDeclaration(parent) ? parent.getName() : `(anonymous at ${n.getStartLineNumber()})`);
        out.functions.push({ file, name: `${Node.isClassDeclaration(n) ? 'class ' : ''}${name}`, lines });
      }
    });
  }
  return out;
}

if (process.argv[1]?.endsWith('code-sizes.ts')) {
  const s = codeSizes();
  const all = process.argv.includes('--all');
  const files = s.files.filter((f) => all || f.lines > 400).sort((a, b) => b.lines - a.lines);
  const fns = s.functions.filter((f) => all || f.lines > 80).sort((a, b) => b.lines - a.lines);
  console.log(`${s.files.length} files, ${s.files.reduce((a, f) => a + f.lines, 0)} lines; largest: ${Math.max(...s.files.map((f) => f.lines))}; ${s.functions.length} functions`);
  console.log(`files over 400 lines (${files.length}):`);
  for (const f of files) console.log(`  ${String(f.lines).padStart(5)}  ${f.file}`);
  console.log(`functions over 80 lines (${fns.length}):`);
  for (const f of fns) console.log(`  ${String(f.lines).padStart(5)}  ${f.file}: ${f.name}`);
}
