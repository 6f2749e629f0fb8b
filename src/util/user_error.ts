// Errors a user can fix (bad input, a bad option, a missing driver): the CLI exits 2 with the message alone, no
// stack-trace hint; the studio shows the message with its place. Every such error class either extends UserError or
// is listed by name here (classes that predate this file, and classes a module cannot import).
export class UserError extends Error {
  override name = 'UserError';
}

const USER_ERROR_NAMES = new Set([
  'UserError', 'UsageError', 'CliInputError', 'ConfigError', 'WebGpuUnavailableError', 'SafetensorsError',
  'DataImportError', 'ResumeMismatchError', 'JsonTextError', 'TokenIdError', 'ModelFolderError', 'DataSourceError',
]);

export function isUserError(e: unknown): boolean {
  return e instanceof UserError || (e instanceof Error && USER_ERROR_NAMES.has(e.name));
}
