// Download progress per file and overall: bytes, rate (bytes/s over a sliding window) and ETA. The downloader
// updates a ProgressTracker; the callback receives plain snapshots (safe to postMessage from a worker).

export type FileStatus = 'queued' | 'checking' | 'downloading' | 'verifying' | 'complete' | 'skipped' | 'failed';

export interface FileProgress {
  path: string;
  key: string;
  size: number;
  /** Bytes stored so far (including bytes stored by an earlier, interrupted run). */
  bytes: number;
  status: FileStatus;
  /** Bytes/s over the last few seconds; 0 when idle. */
  rate: number;
  /** Seconds left at the current rate; null when unknown. */
  etaSeconds: number | null;
  /** Retries after dropped connections or integrity failures. */
  retries: number;
  error?: string;
}

export interface DownloadProgress {
  files: FileProgress[];
  totalBytes: number;
  doneBytes: number;
  rate: number;
  etaSeconds: number | null;
}

export type ProgressCallback = (p: DownloadProgress) => void;

/** Bytes/s over the last `windowMs`, from (time, cumulative bytes) samples. */
export class RateMeter {
  private samples: [number, number][] = [];
  private total = 0;

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(bytes: number): void {
    this.total += bytes;
    const t = this.now();
    this.samples.push([t, this.total]);
    while (this.samples.length > 2 && t - this.samples[0][0] > this.windowMs) this.samples.shift();
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples[this.samples.length - 1];
    // Idle for a whole window: the rate has dropped to 0.
    if (this.now() - t1 > this.windowMs) return 0;
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  }
}

export function eta(remaining: number, rate: number): number | null {
  if (remaining <= 0) return 0;
  return rate > 0 ? remaining / rate : null;
}

export class ProgressTracker {
  readonly files = new Map<string, FileProgress & { meter: RateMeter }>();
  private readonly overall: RateMeter;
  private lastEmit = -Infinity;

  constructor(
    private readonly onProgress?: ProgressCallback,
    private readonly minIntervalMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.overall = new RateMeter(5000, now);
  }

  addFile(path: string, key: string, size: number): void {
    this.files.set(key, { path, key, size, bytes: 0, status: 'queued', rate: 0, etaSeconds: null, retries: 0, meter: new RateMeter(5000, this.now) });
  }

  /** Sets bytes already present (resume, skip) without counting them as transferred. */
  setStored(key: string, bytes: number, status: FileStatus): void {
    const f = this.files.get(key)!;
    f.bytes = bytes;
    f.status = status;
    this.emit(true);
  }

  /** Counts freshly transferred bytes. */
  transferred(key: string, bytes: number): void {
    const f = this.files.get(key)!;
    f.bytes += bytes;
    f.status = 'downloading';
    f.meter.add(bytes);
    this.overall.add(bytes);
    this.emit(false);
  }

  status(key: string, status: FileStatus, error?: string): void {
    const f = this.files.get(key)!;
    f.status = status;
    if (error !== undefined) f.error = error;
    if (status === 'downloading' || status === 'checking') delete f.error;
    this.emit(true);
  }

  retry(key: string, reason: string): void {
    const f = this.files.get(key)!;
    f.retries++;
    f.error = reason;
    this.emit(true);
  }

  snapshot(): DownloadProgress {
    const files: FileProgress[] = [];
    let total = 0;
    let done = 0;
    for (const { meter, ...f } of this.files.values()) {
      const rate = f.status === 'downloading' ? meter.rate() : 0;
      files.push({ ...f, rate, etaSeconds: eta(f.size - f.bytes, rate) });
      total += f.size;
      done += f.bytes;
    }
    const rate = this.overall.rate();
    return { files, totalBytes: total, doneBytes: done, rate, etaSeconds: eta(total - done, rate) };
  }

  private emit(force: boolean): void {
    if (!this.onProgress) return;
    const t = this.now();
    if (!force && t - this.lastEmit < this.minIntervalMs) return;
    this.lastEmit = t;
    this.onProgress(this.snapshot());
  }
}
