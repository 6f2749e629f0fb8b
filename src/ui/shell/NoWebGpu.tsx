// The full page shown when the worker found no WebGPU: which browser, which flag, and why localhost matters.
import { NO_WEBGPU_HINT } from '../../gpu/device.ts';

export function NoWebGpu({ message }: { message: string | null }) {
  // the worker's message usually ends with the same hint; show only what it adds ("No WebGPU adapter was found.")
  const detail = (message ?? '').replace(NO_WEBGPU_HINT, '').trim();
  return (
    <main className="no-webgpu" data-testid="no-webgpu">
      <h1>WebGPU is not available in this browser</h1>
      <p>Reward Studio trains on your GPU through WebGPU, and this page could not get a WebGPU adapter.</p>
      <ol>
        <li>
          Use <strong>Chrome or Edge 113 or newer</strong> (desktop). Firefox and Safari need their WebGPU
          settings turned on.
        </li>
        <li>
          On Linux, start Chrome with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>, then check{' '}
          <code>chrome://gpu</code> says “WebGPU: Hardware accelerated”.
        </li>
        <li>
          Open the studio from <code>http://localhost</code> (what <code>npm start</code> prints): WebGPU needs a
          secure context, so a LAN address or a <code>file://</code> page has none.
        </li>
      </ol>
      <p className="muted">{NO_WEBGPU_HINT}</p>
      {detail && (
        <p className="muted" data-testid="no-webgpu-detail">
          What the browser said: {detail}
        </p>
      )}
    </main>
  );
}
