// A helper process for tests/soak/cli_kill.test.ts: writes an export through the CLI's writeFiles with
// REWARD_STUDIO_FAULTS=kill@export:1 set by the caller, so it is SIGKILLed after the first file, mid-export.
//   node --import tsx tools/soak/kill_writer.ts <dir>
import { writeFiles } from '../../src/cli/common.ts';

const dir = process.argv[2];
const file = (name: string, n: number) => ({ name, data: new Uint8Array(n).fill(7) });
await writeFiles(dir, [file('adapter_config.json', 100), file('adapter_model.safetensors', 200_000), file('README.md', 50)]);
console.log('written (the fault was not armed)');
