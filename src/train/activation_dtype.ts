// The engine's activation storage setting (no engine imports: the CLI's argument checks and the studio's UI read it).
// `auto` lets the memory plan choose (src/train/session.ts memoryCandidates: float16 only where float32 does not
// fit); float32 / float16 fix it (src/model/activations.ts ActivationDtype).
export type ActivationDtypeChoice = 'auto' | 'float32' | 'float16';
export const ACTIVATION_DTYPE_CHOICES: readonly ActivationDtypeChoice[] = ['auto', 'float32', 'float16'];
