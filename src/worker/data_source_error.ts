// The error a missing stored model/dataset raises, with what to do. In its own file so the train worker can throw it
// (model_files.ts) without importing data_sources.ts — which pulls the tokenizer (transformers.js) and the parquet
// readers into the train worker's bundle.
export class DataSourceError extends Error {
  override name = 'DataSourceError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}
