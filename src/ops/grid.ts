// Workgroup grids for 1-D elementwise kernels. Shaders index `i = gid.x + gid.y * nwg.x * WG`, so element counts
// beyond 65535 workgroups spill into y.
import { cdiv } from '../gpu/kernel.ts';

export const WG_1D = 256;
const MAX_X = 65535;

export function elementwiseGrid(n: number, wg = WG_1D): [number, number, number] {
  const groups = cdiv(n, wg);
  if (groups <= MAX_X) return [groups, 1, 1];
  return [MAX_X, cdiv(groups, MAX_X), 1];
}
