// Stand-in for `onnxruntime-web` where transformers.js imports it, in the production build only (vite.config.ts,
// plugin `ortOnlyWhereLoaded`): the studio uses transformers.js for tokenizers and chat templates, never for ONNX
// inference, so its ONNX backend must not pull onnxruntime's JS and 26 MB wasm into the data worker. transformers.js
// reads `env` (undefined here: it skips its ORT setup) and `InferenceSession` at import time. Code of our own that
// imports onnxruntime-web (lazily) gets the real package: only importers inside @huggingface/transformers see this.
export const env = undefined;
export const Tensor = undefined;
export const InferenceSession = {
  create(): never {
    throw new Error('onnxruntime-web is not bundled with the tokenizer; import it where it is needed (a lazy chunk).');
  },
};
