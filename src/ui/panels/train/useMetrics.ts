// Subscribes a component to the metrics buffer, re-reading at most once per animation frame however fast steps come.
import { useEffect, useState } from 'react';
import { useMetricsBuffer } from '../../context.ts';
import type { MetricsRow } from '../../store/metrics.ts';

export function useMetricsRows(): readonly MetricsRow[] {
  const buffer = useMetricsBuffer();
  const [snap, setSnap] = useState(() => ({ version: buffer.version, rows: buffer.all().slice() }));
  useEffect(() => {
    let frame = 0;
    const update = () => {
      frame = 0;
      setSnap((prev) => (prev.version === buffer.version ? prev : { version: buffer.version, rows: buffer.all().slice() }));
    };
    const unsubscribe = buffer.subscribe(() => {
      if (!frame) frame = requestAnimationFrame(update);
    });
    update();
    return () => {
      unsubscribe();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [buffer]);
  return snap.rows;
}
