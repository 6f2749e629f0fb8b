// The current config checked by the trainer's parser, recomputed only when the config changes.
import { useMemo } from 'react';
import { useStudio } from '../../context.ts';
import { checkConfig, type ConfigCheck } from '../../config_fields.ts';

export function useConfigCheck(): ConfigCheck & { issueOf: (field: string) => string | undefined } {
  const config = useStudio((s) => s.config);
  return useMemo(() => {
    const check = checkConfig(config);
    const byField = new Map(check.issues.map((i) => [i.field, i.message]));
    return { ...check, issueOf: (f: string) => byField.get(f) };
  }, [config]);
}
