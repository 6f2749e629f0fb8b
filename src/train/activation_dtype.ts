// The engine's activation storage setting (no engine imports: the CLI's argument checks and the studio's UI read it).
// `auto` lets the memory plan choose (src/train/session.ts memoryCandidates: float16 only where float32 does not
// fit); float32 / float16 fix it (src/model/activations.ts ActivationDtype).
export const ACTIVATION_DTYPES = ['float32', 'float16'] as const;
export type ActivationDtype = (typeof ACTIVATION_DTYPES)[number];
export type ActivationDtypeChoice = 'auto' | ActivationDtype;
export const ACTIVATION_DTYPE_CHOICES: readonly ActivationDtypeChoice[] = ['auto', ...ACTIVATION_DTYPES];
