// Layer rules of generator/src (docs/architecture.md): a module may import its own layer and the layers below it,
// never above; no import cycles (type-only imports do not count: they vanish at run time). CI runs this
// (test/architecture.test.ts); `npx depcruise generator/src` shows any breach with the rule it breaks.
//
//   cli                                   the command line
//   verify  bench  report  inspect  compact  quantize   tools over models: check, measure, describe, compact, quantise
//   generate.ts                           the jobs: model -> files (emit + reference)
//   emit                                  printing C, firmware, libraries, WASM loaders from a resolved program
//   plan  import                          resolution (kernels, fusion, arena, fit) | files -> models
//   format  reference  toolchain          the model file | the reference interpreter | external tools
//   model                                 graphs of ops: Model, validation, random models, targets, boards
//   ops                                   one home per op, the registry
//   ir                                    tensor types, layouts, blob encoding, seeded randomness
//   core                                  paths, errors, version, output folders, progress
const src = '^generator/src/';
const layer = (name) => `${src}${name}`;
const above = {
  core: ['ir', 'ops', 'model', 'format', 'reference', 'toolchain', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  ir: ['ops', 'model', 'format', 'reference', 'toolchain', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  ops: ['model', 'format', 'reference', 'toolchain', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  model: ['format', 'reference', 'toolchain', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  format: ['reference', 'toolchain', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  reference: ['format', 'toolchain', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  toolchain: ['format', 'reference', 'plan', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  plan: ['reference', 'toolchain', 'import', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  import: ['reference', 'toolchain', 'plan', 'emit', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  emit: ['reference', 'import', 'generate\\.ts', 'verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  'generate\\.ts': ['verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  verify: ['bench', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  bench: ['verify', 'report\\.ts', 'inspect', 'compact', 'quantize', 'cli'],
  'report\\.ts': ['verify', 'bench', 'inspect', 'compact', 'quantize', 'cli'],
  inspect: ['verify', 'bench', 'report\\.ts', 'compact', 'quantize', 'cli'],
  compact: ['verify', 'bench', 'report\\.ts', 'quantize', 'cli'],
  quantize: ['verify', 'bench', 'report\\.ts', 'inspect', 'compact', 'cli'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle (type-only imports excepted) makes module order matter and layers meaningless.',
      from: { path: src },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...Object.entries(above).map(([from, upper]) => ({
      name: `layer-${from.replace(/\\\\\./g, '-')}`,
      severity: 'error',
      comment: `${from.replace(/\\\\/g, '')} may not import ${upper.map((u) => u.replace(/\\\\/g, '')).join(', ')} (a higher layer): see docs/architecture.md`,
      from: { path: layer(from) },
      to: { path: `${src}(${upper.join('|')})`, dependencyTypesNot: ['type-only'] },
    })),
    {
      name: 'ops-through-the-registry',
      severity: 'error',
      comment: 'Outside ops/, reach an op through ops/registry.ts (or its types and shared helpers), not by importing its file.',
      from: { path: src, pathNot: `${src}(ops|import/onnx|inspect|compact)/` },
      to: { path: `${src}ops/(?!registry\\.ts|types\\.ts|shared/)`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: src },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
