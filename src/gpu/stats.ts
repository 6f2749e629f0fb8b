// Structural counters for benchmarks: GPU objects created (createBuffer / createBindGroup) and queue submissions.
// `countAllocations(device)` wraps the device's two create methods once (a thin wrapper that counts and forwards),
// so a benchmark can assert the steady state allocates nothing. Never used to steer the engine.

export const allocStats = { buffers: 0, bindGroups: 0 };

/** Submissions made through submitCounted (the training step's submissions). */
export const submitStats = { count: 0 };

const wrapped = new WeakSet<GPUDevice>();

/** Counts every createBuffer / createBindGroup on `device` into allocStats from now on (idempotent). */
export function countAllocations(device: GPUDevice): void {
  if (wrapped.has(device)) return;
  wrapped.add(device);
  const createBuffer = device.createBuffer.bind(device);
  const createBindGroup = device.createBindGroup.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    allocStats.buffers++;
    return createBuffer(d);
  };
  device.createBindGroup = (d: GPUBindGroupDescriptor) => {
    allocStats.bindGroups++;
    return createBindGroup(d);
  };
}

/** Total objects created so far. */
export function allocationCount(): number {
  return allocStats.buffers + allocStats.bindGroups;
}

/** queue.submit with a count. */
export function submitCounted(device: GPUDevice, buffers: GPUCommandBuffer[]): void {
  submitStats.count++;
  device.queue.submit(buffers);
}
