// Child process of the fuzz harness (fuzz.ts): runs the compiled CLI's main() in-process for each request and
// sends back its exit code and everything it wrote to stdout and stderr.
import { main } from '../../generator/dist/cli/main.js';

process.on('message', async ({ argv }) => {
  let out = '';
  let err = '';
  const io = { out: (line) => (out += line + '\n'), err: (text) => (err += text), errIsTTY: false, progress: { phase() {}, count() {} } };
  let code;
  try {
    code = await main(argv, io, { signals: false });
  } catch (e) {
    // main never throws; if it does, that is a finding too.
    code = 99;
    err += `main threw: ${e?.stack ?? e}\n`;
  }
  process.send({ code, out, err });
});
