// Checkpoint names, apart from the checkpoint code so the page can read them without pulling in GPU code.
export const checkpointName = (step: number) => `checkpoint-${step}`;

/** Name prefix of the studio's recovery checkpoints (`recovery-<step>`; see TrainerOptions.recoveryEveryMs). */
export const RECOVERY_PREFIX = 'recovery-';
