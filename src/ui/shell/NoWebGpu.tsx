// Without WebGPU the studio still works for everything but the GPU: Model & data, Inspect, Configure (the memory
// plan with WebGPU's default limits, the TRL script) and Export's script. Train and Evaluate show this in place of
// their content: one short message for the user, and the developer details (flags, secure context, what the
// browser said) behind a "details" toggle.
import { NO_WEBGPU_HINT } from '../../gpu/device.ts';
import { useStudio } from '../context.ts';

export function NoWebGpu({ what }: { what: string }) {
  const message = useStudio((s) => s.gpu.message);
  // the worker's message usually ends with the same hint; show only what it adds ("No WebGPU adapter was found.")
  const detail = (message ?? '').replace(NO_WEBGPU_HINT, '').trim();
  return (
    <section className="card no-webgpu" data-testid="no-webgpu">
      <p>
        <strong>{what} needs WebGPU</strong>, which this browser does not offer: open the studio in Chrome or Edge
        (desktop) from <code>http://localhost</code>. Model &amp; data, Inspect, Configure and the TRL script work
        without it.
      </p>
      <details data-testid="no-webgpu-details">
        <summary>details</summary>
        <ul>
          <li>Chrome or Edge 113 or newer; Firefox and Safari need their WebGPU settings turned on.</li>
          <li>
            On Linux, start Chrome with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>, then check that{' '}
            <code>chrome://gpu</code> says “WebGPU: Hardware accelerated”.
          </li>
          <li>
            WebGPU needs a secure context: <code>http://localhost</code> (what <code>npm start</code> prints), not a LAN
            address or a <code>file://</code> page.
          </li>
        </ul>
        {detail && <p className="muted" data-testid="no-webgpu-detail">What the browser said: {detail}</p>}
      </details>
    </section>
  );
}

/** The header's status without WebGPU. */
export function NoWebGpuStatus() {
  return (
    <div className="gpu-status" data-testid="gpu-status">
      <span className="dot missing" aria-hidden /> No WebGPU: training and evaluation are off
    </div>
  );
}
