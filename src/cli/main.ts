// `npm run cli -- <command>`: the headless studio on the same engine (Node + Dawn).
//   train   --model <dir> --train <file> [--eval <file>] [--config <json>] --out <dir> [--resume] [--gpu-memory GB]
//   score   (--model <dir> [--adapter <dir>] | --onnx <dir>) --data <file> [--out <file>]
//   eval    (--model <dir> [--adapter <dir>] | --onnx <dir>) --data <file> [--max-length N]
//   export-onnx --model <dir> [--adapter <dir>] --out <dir> [--dtype float32|float16]
//   plan    --model <dir-or-config.json> [--config <json>] [--micro-batch N] [--gpu-memory GB]
//   inspect --data <file-or-dir> [...]
//   gpu     [--json]
// Exit codes: 0 ok, 2 bad usage or input (the message names the file, line and field), 1 anything else.
import { isUserError } from '../util/user_error.ts';
import { trainCommand } from './train.ts';
import { scoreCommand, evalCommand } from './score.ts';
import { planCommand } from './plan.ts';
import { exportOnnxCommand } from './onnx.ts';
import { inspectCommand } from './inspect.ts';
import { gpuCommand } from './gpu.ts';
import { flags } from '../gpu/flags.ts';

const USAGE = `usage: npm run cli -- <command> [options]
  train    train a reward model (TRL RewardTrainer semantics): --model DIR --train FILE [--eval FILE] [--config JSON] --out DIR
  score    score records: --model DIR [--adapter DIR] | --onnx DIR, --data FILE [--out FILE]
  eval     accuracy/margin/loss on pairs: --model DIR [--adapter DIR] | --onnx DIR, --data FILE
  export-onnx  the reward model as ONNX (verified with onnxruntime-web): --model DIR [--adapter DIR] --out DIR [--dtype float32|float16]
  plan     GPU memory a run needs: --model DIR|config.json [--config JSON]
  inspect  dataset inspection: --data FILE|DIR
  gpu      the WebGPU adapter, the features the engine uses (and why not), its limits [--json]
Each command takes --help.`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'train': return trainCommand(rest);
    case 'score': return scoreCommand(rest);
    case 'eval': return evalCommand(rest);
    case 'export-onnx': return exportOnnxCommand(rest);
    case 'plan': return planCommand(rest);
    case 'inspect': return inspectCommand(rest);
    case 'gpu': return gpuCommand(rest);
    case undefined: case '--help': case '-h': case 'help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    const user = isUserError(e);
    console.error(`error: ${e.message}`);
    if (!user && flags.stackTraces) console.error(e.stack);
    else if (!user) console.error('(set REWARD_STUDIO_FLAGS=stackTraces for the stack trace)');
    process.exit(user ? 2 : 1);
  },
);
