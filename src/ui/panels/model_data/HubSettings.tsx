// Hub base URL and access token. The token stays in memory unless "remember for this tab" is ticked
// (sessionStorage); it is sent only with download requests and never written anywhere else.
import { CheckboxField, TextField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { DEFAULT_HUB_URL } from '../../store/slices/hub.ts';

export function HubSettings() {
  const hubUrl = useStudio((s) => s.hub.hubUrl);
  const token = useStudio((s) => s.hub.token);
  const remember = useStudio((s) => s.hub.rememberToken);
  const { setHub } = useActions();
  return (
    <Section title="Hugging Face Hub" id="hub-settings">
      <div className="row">
        <TextField label="Hub base URL" name="hubUrl" type="url" value={hubUrl} onChange={(v) => setHub({ hubUrl: v.trim() })} hint={hubUrl === DEFAULT_HUB_URL ? 'huggingface.co, or a mirror that serves /resolve/ and /api/ the same way.' : 'A mirror of the Hub (`npm run mirror -- <folder>` serves one; the dev server mounts it at /hub-mirror).'} />
      </div>
      <div className="row">
        <TextField label="Access token (for gated or private repos)" name="token" type="password" value={token} placeholder="hf_…" onChange={(v) => setHub({ token: v.trim() })} hint="Kept in memory only; sent to the Hub base URL above with downloads." />
        <CheckboxField label="Remember for this tab (sessionStorage)" checked={remember} onChange={(v) => setHub({ rememberToken: v })} />
      </div>
    </Section>
  );
}
