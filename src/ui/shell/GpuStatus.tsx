// The header's GPU status area: what the train worker's adapter is, which optional features the engine uses (and why
// not: info.engine, src/gpu/features.ts), a warning when the adapter is a software fallback (SwiftShader) rather than
// the GPU, key limits, and the bytes the engine holds. The page never touches GPU objects; this reads the worker's
// `gpu-info` message.
import { useStudio } from '../context.ts';
import { formatBytes } from '../format.ts';

const testId = (name: string) => `feature-${name.replace(/ /g, '-')}`;

const LIMITS: { name: string; label: string; bytes: boolean }[] = [
  { name: 'maxBufferSize', label: 'max buffer', bytes: true },
  { name: 'maxStorageBufferBindingSize', label: 'max storage binding', bytes: true },
  { name: 'maxStorageBuffersPerShaderStage', label: 'storage buffers / stage', bytes: false },
  { name: 'maxComputeWorkgroupStorageSize', label: 'workgroup storage', bytes: true },
  { name: 'maxComputeInvocationsPerWorkgroup', label: 'invocations / workgroup', bytes: false },
];

export function GpuStatus() {
  const gpu = useStudio((s) => s.gpu);
  if (gpu.status === 'pending') {
    return (
      <div className="gpu-status" data-testid="gpu-status" aria-live="polite">
        <span className="dot pending" aria-hidden /> Looking for a WebGPU adapter…
      </div>
    );
  }
  const info = gpu.info;
  if (!info) return null;
  const name = [info.vendor, info.architecture].filter(Boolean).join(' · ') || 'unknown adapter';
  return (
    <details className="gpu-status" data-testid="gpu-status">
      <summary>
        <span className="dot ready" aria-hidden />
        <span className="gpu-name" data-testid="gpu-name">
          {name}
        </span>
        {info.software && (
          <span className="badge warn" data-testid="gpu-software" title={info.software}>
            ⚠ software adapter (CPU)
          </span>
        )}
        {(info.engine ?? []).map((f) => (
          <span key={f.name} className={`badge ${f.using ? 'on' : 'off'}`} data-testid={testId(f.name)} title={f.detail}>
            {f.name} {f.using ? '✓' : '✗'}
          </span>
        ))}
        {gpu.memoryBytes !== null && (
          <span className="gpu-mem" title="GPU memory the training engine holds (weights, gradients, optimizer, activations)">
            engine {formatBytes(gpu.memoryBytes)}
          </span>
        )}
      </summary>
      <dl className="gpu-details">
        {info.software && (
          <>
            <dt>Warning</dt>
            <dd className="gpu-warning" data-testid="gpu-software-detail">{info.software}</dd>
          </>
        )}
        <dt>Adapter</dt>
        <dd>{info.description || info.device || '(no description)'}</dd>
        {(info.engine ?? []).map((f) => (
          <div key={f.name} className="limit">
            <dt>{f.name}</dt>
            <dd data-testid={`${testId(f.name)}-detail`}>
              {f.using ? 'used' : 'not used'}: {f.detail}
            </dd>
          </div>
        ))}
        <dt>Vendor / architecture</dt>
        <dd>
          {info.vendor || '?'} / {info.architecture || '?'}
        </dd>
        {LIMITS.map((l) => (
          <div key={l.name} className="limit">
            <dt title={l.name}>{l.label}</dt>
            <dd data-testid={`limit-${l.name}`}>{l.bytes ? formatBytes(info.limits[l.name]) : info.limits[l.name]}</dd>
          </div>
        ))}
        <dt>All features</dt>
        <dd>{info.features.join(', ') || 'core only'}</dd>
      </dl>
    </details>
  );
}
