// Library export (CMake for host and Cortex-M4, make fragment), Arduino layout, and the WASM/TypeScript target.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../generator/src/core/paths.ts';
import { wasmTargetFiles } from '../generator/src/emit/wasm-target.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { goldenInputs } from '../generator/src/generate.ts';
import { generateGolden as goldenFiles, generateLibrary } from '../generator/src/generate.ts';
import { randomInput, randomModel } from '../generator/src/model/random.ts';
import { getTarget } from '../generator/src/model/target.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';
import { writeTree } from '../generator/src/core/files.ts';
import { haveTool, runTool } from '../generator/src/toolchain/tools.ts';

const work = mkdtempSync(join(tmpdir(), 'bnn-exports-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const haveCmake = (() => {
  try {
    return existsSync('/usr/bin/cmake');
  } catch {
    return false;
  }
})();

const APP = `
#include <stdio.h>
#include <string.h>
#include "bnn_model.h"
#include "bnn_golden.h"
static uint32_t arena[(BNN_ARENA_SIZE + 3) / 4];
int main(void) {
    int bad = 0;
    for (int i = 0; i < BNN_GOLDEN_COUNT; i++) {
        bnn_score_t s[BNN_NUM_CLASSES];
        if (bnn_run(BNN_GOLDEN_INPUTS[i], s, arena) != BNN_OK || memcmp(s, BNN_GOLDEN_SCORES[i], sizeof s) != 0) bad++;
    }
    printf("%d bad\\n", bad);
    return bad != 0;
}
`;

describe.skipIf(!haveCmake || !haveTool('gcc'))('--format lib', () => {
  const model = loadModel(DEFAULT_MODEL);
  const lib = generateLibrary(model, { target: getTarget('cortex-m4'), format: 'lib', dirName: 'bnnlib' });

  it('builds with CMake into a host application that matches the golden scores bit for bit', async () => {
    const root = join(work, 'host');
    const golden = goldenFiles(model, goldenInputs(model, [], 3, 5), { inputsFrom: 'test' });
    writeTree(root, {
      ...Object.fromEntries(Object.entries(lib.files).map(([k, v]) => [`bnnlib/${k}`, v])),
      'app/main.c': APP,
      'app/bnn_golden.h': golden['bnn_golden.h'],
      'CMakeLists.txt': 'cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_subdirectory(bnnlib)\nadd_executable(app app/main.c)\ntarget_include_directories(app PRIVATE app)\ntarget_compile_options(app PRIVATE -Wall -Wextra -Werror)\ntarget_link_libraries(app PRIVATE bnn_model)\n',
    });
    await runTool('cmake', ['-S', root, '-B', join(root, 'build'), '-DCMAKE_C_FLAGS=-Wall -Wextra -Werror']);
    await runTool('cmake', ['--build', join(root, 'build')]);
    const r = await runTool(join(root, 'build', 'app'), []);
    expect(r.stdout.toString()).toContain('0 bad');
  });

  it.skipIf(!haveTool('arm-none-eabi-gcc'))('cross-builds for Cortex-M4 with its toolchain file', async () => {
    const root = join(work, 'm4');
    writeTree(root, lib.files);
    // CFLAGS from the environment add to the toolchain's flags (-DCMAKE_C_FLAGS would replace them).
    await runTool('cmake', ['-S', root, '-B', join(root, 'build'), `-DCMAKE_TOOLCHAIN_FILE=${join(root, 'cortex-m4.cmake')}`], { env: { ...process.env, CFLAGS: '-Wall -Wextra -Werror' } });
    await runTool('cmake', ['--build', join(root, 'build')]);
    const lib_ = join(root, 'build', 'libbnn_model.a');
    expect(existsSync(lib_)).toBe(true);
    const objdump = await runTool('arm-none-eabi-objdump', ['-f', lib_]);
    expect(objdump.stdout.toString()).toMatch(/architecture: armv7e-m/);
    // No CMAKE_BUILD_TYPE given: the model is still compiled with -O2 (CMake's default would be unoptimised).
    const flags = readFileSync(join(root, 'build', 'CMakeFiles', 'bnn_model.dir', 'flags.make'), 'utf8');
    expect(flags).toMatch(/C_FLAGS = .*-O2/);
    // An explicit build type is the user's: no -O2 added on top of Debug's flags.
    await runTool('cmake', ['-S', root, '-B', join(root, 'build-debug'), `-DCMAKE_TOOLCHAIN_FILE=${join(root, 'cortex-m4.cmake')}`, '-DCMAKE_BUILD_TYPE=Debug']);
    expect(readFileSync(join(root, 'build-debug', 'CMakeFiles', 'bnn_model.dir', 'flags.make'), 'utf8')).not.toMatch(/-O2/);
  });

  it('ships a make fragment and a README with the integration example', async () => {
    expect(lib.files['bnn_model.mk']).toMatch(/BNN_SRCS := .*src\/bnn_model\.c/);
    expect(lib.files['README.md']).toContain('bnn_run(image, scores, arena)');
    const root = join(work, 'mk');
    writeTree(root, { ...Object.fromEntries(Object.entries(lib.files).map(([k, v]) => [`bnnlib/${k}`, v])), 'main.c': '#include "bnn_model.h"\nstatic uint32_t a[(BNN_ARENA_SIZE + 3) / 4];\nint main(void) { static bnn_input_t x[BNN_INPUT_SIZE]; bnn_score_t s[BNN_NUM_CLASSES]; return bnn_run(x, s, a); }\n', Makefile: 'BNN_DIR := bnnlib/\ninclude bnnlib/bnn_model.mk\napp: main.c $(BNN_SRCS)\n\tgcc -std=c99 -Wall -Wextra -Werror $(BNN_CFLAGS) $^ -o $@\n' });
    await runTool('make', ['-C', root, 'app']);
    expect(existsSync(join(root, 'app'))).toBe(true);
  });
});

describe('--format arduino', () => {
  const model = loadModel(DEFAULT_MODEL);
  const ard = generateLibrary(model, { target: getTarget('cortex-m4'), format: 'arduino', dirName: 'MnistBnn' });
  it('lays out an Arduino library with an example sketch', () => {
    expect(Object.keys(ard.files)).toEqual(expect.arrayContaining(['library.properties', 'src/bnn_model.h', 'src/bnn_model.c', 'src/bnn_runtime.h', 'examples/MnistBnn_demo/MnistBnn_demo.ino']));
    expect(ard.files['library.properties']).toMatch(/^name=MnistBnn$/m);
    expect(ard.files['examples/MnistBnn_demo/MnistBnn_demo.ino']).toContain('#include <bnn_model.h>');
  });

  it.skipIf(!haveTool('arm-none-eabi-gcc'))('compiles as Arduino would (gnu11, no -ffp-contract flag) without fused multiply-adds', async () => {
    const root = join(work, 'ard');
    writeTree(root, ard.files);
    for (const f of Object.keys(ard.files).filter((k) => k.endsWith('.c'))) {
      const r = await runTool('arm-none-eabi-gcc', [...getTarget('cortex-m4').cflags, '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-S', join(root, f), '-o', '-']);
      expect(r.stdout.toString(), f).not.toMatch(/\bvfma|\bvmla/);
    }
  });
});

describe.skipIf(!haveTool('emcc'))('--target wasm', () => {
  for (const [name, load] of [
    ['the example', () => loadModel(DEFAULT_MODEL)],
    ['an int8-input random model', () => randomModel(Array.from({ length: 200 }, (_, i) => i + 1).find((s) => randomModel(s).input.dtype === 'i8')!)],
  ] as const) {
    it(`${name}: the generated TypeScript module runs the .wasm bit-exactly`, async () => {
      const model = load();
      const { files } = await wasmTargetFiles(model);
      const dir = join(work, `wasm-${name.replace(/\W+/g, '-')}`);
      writeTree(dir, files);
      expect(readFileSync(join(dir, 'bnn_model.d.ts'), 'utf8')).toMatch(/export declare class Model/);
      const mod = await import(pathToFileURL(join(dir, 'bnn_model.js')).href);
      const m = await mod.Model.load();
      for (let k = 0; k < 4; k++) {
        const x = randomInput(model, 40 + k);
        expect(Array.from(m.run(x))).toEqual(Array.from(runReference(model, x).scores));
      }
      expect(() => m.run(new Uint8Array(3))).toThrow(/input has 3 values/);
      writeFileSync(join(dir, 'touch'), '');
    });
  }
});
