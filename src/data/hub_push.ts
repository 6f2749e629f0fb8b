// Push to Hub: the exported files (a PEFT adapter, or a merged model) committed to a repo the user names, with their
// token (held in memory by the caller, never stored), through @huggingface/hub's createRepo + commit — regular files
// inline, *.safetensors through LFS (useXet false: plain LFS, which the Hub and the local mirror both accept). Works
// against the Hub or the local mirror (`npm run mirror`, hubUrl). Runs in the data worker, which already holds the
// library for downloads.

export interface PushFile {
  path: string;
  data: Uint8Array;
}

export class HubPushError extends Error {
  override name = 'HubPushError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

const REPO_RE = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

export async function pushToHub(o: { hubUrl: string; token: string; repo: string; files: PushFile[]; message?: string; fetch?: typeof fetch }): Promise<{ commitUrl: string; oid: string; created: boolean }> {
  if (!REPO_RE.test(o.repo)) throw new HubPushError(`"${o.repo}" is not a repo id.`, 'Name the repo as <user or org>/<name>, e.g. alice/qwen3-reward-lora.');
  if (!o.token) throw new HubPushError('No Hugging Face token.', 'Paste a token with write access (huggingface.co/settings/tokens); it is kept in this tab only.');
  if (o.files.length === 0) throw new HubPushError('Nothing to push.', 'Export the adapter or the merged model first.');
  const hub = await import('@huggingface/hub');
  const common = { accessToken: o.token, hubUrl: o.hubUrl.replace(/\/+$/, ''), ...(o.fetch ? { fetch: o.fetch } : {}) };
  let created = true;
  try {
    await hub.createRepo({ ...common, repo: { type: 'model', name: o.repo } });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 409) created = false;
    else if (status === 401 || status === 403) throw new HubPushError(`The Hub refused the token for ${o.repo} (${status}).`, 'Use a token with write access to that user or organization.');
    else throw e;
  }
  const out = await hub.commit({
    ...common,
    repo: { type: 'model', name: o.repo },
    title: o.message ?? 'Upload from Reward Studio',
    operations: o.files.map((f) => ({ operation: 'addOrUpdate' as const, path: f.path, content: new Blob([f.data as Uint8Array<ArrayBuffer>]) })),
    useXet: false,
  });
  if (!out) throw new HubPushError('The commit returned nothing.', 'Try again.');
  return { commitUrl: out.commit.url, oid: out.commit.oid, created };
}
