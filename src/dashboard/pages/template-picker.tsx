// Picking an approved template to send (a reply outside the window, a retarget): a select of the
// synced templates with their language, then the chosen one's text and a field for each parameter it
// needs. Choosing is a GET of the same page (the script submits on change), so it works without script.
import type { Child } from 'hono/jsx';
import { parameterField } from '../../campaigns/template-parameters.js';
import type { SendableTemplate } from '../../campaigns/templates.js';
import type { Viewer } from '../view.js';
import { Csrf } from './layout.js';

export const templateKey = (t: { name: string; language: string }) => `${t.name}:${t.language}`;

/** The template a `?template=name:language` query names, when it is one of the approved ones. */
export function chosenTemplate(
  templates: SendableTemplate[],
  key: string | undefined,
): SendableTemplate | undefined {
  return key ? templates.find((t) => templateKey(t) === key) : undefined;
}

export function TemplatePicker(p: {
  /** Prefix of the element ids, unique on the page. */
  id: string;
  viewer: Viewer;
  templates: SendableTemplate[];
  chosen: SendableTemplate | undefined;
  /** The page itself (choosing reloads it with ?template=…), with the anchor to come back to. */
  pageUrl: string;
  postUrl: string;
  submitLabel: string;
  /** More fields of the sending form (the retarget audience). */
  children?: Child;
}) {
  if (p.templates.length === 0) {
    return (
      <p class="muted">
        No approved template is known yet. They come from the template sync (<code>channels.waba_id</code>{' '}
        with an access token) and from Meta’s template status webhooks.
      </p>
    );
  }
  const c = p.chosen;
  const shape = c?.shape ?? null;
  return (
    <>
      <form method="get" action={p.pageUrl} class="inline picker" data-autosubmit>
        <div class="field">
          <label for={`${p.id}-tpl`}>Approved template</label>
          <select id={`${p.id}-tpl`} name="template">
            <option value="">Choose a template…</option>
            {p.templates.map((t) => (
              <option value={templateKey(t)} selected={c !== undefined && templateKey(t) === templateKey(c)}>
                {t.name} ({t.language}){t.category ? ` · ${t.category.toLowerCase()}` : ''}
                {t.shape && t.shape.parameters.length > 0
                  ? ` · ${t.shape.parameters.length} parameter${t.shape.parameters.length === 1 ? '' : 's'}`
                  : ''}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary js-hide">
          Choose
        </button>
      </form>
      {c ? (
        <form method="post" action={p.postUrl} class="template-form">
          <Csrf viewer={p.viewer} />
          <input type="hidden" name="template_name" value={c.name} />
          <input type="hidden" name="template_language" value={c.language} />
          {p.children}
          {shape ? (
            <blockquote class="template-text" aria-label={`Text of ${c.name}`}>
              {shape.header ? <strong>{shape.header}</strong> : null}
              {shape.body ? <span>{shape.body}</span> : null}
              {shape.footer ? <small>{shape.footer}</small> : null}
            </blockquote>
          ) : (
            <p class="muted">Its text is not known here (not synced yet); it is sent without parameters.</p>
          )}
          {shape?.unsupported ? (
            <p class="flash err">This template cannot be sent from here: {shape.unsupported}.</p>
          ) : (
            <>
              {shape?.parameters.map((param) => (
                <div class="field">
                  <label for={`${p.id}-${param.component}-${param.name}`}>
                    {param.component === 'header' ? 'Header' : 'Body'} {`{{${param.name}}}`}
                  </label>
                  <input
                    type="text"
                    id={`${p.id}-${param.component}-${param.name}`}
                    name={parameterField(param)}
                    required
                    maxlength={1024}
                    placeholder={param.example ? `e.g. ${param.example}` : undefined}
                  />
                </div>
              ))}
              <button type="submit" class="secondary">
                {p.submitLabel}
              </button>
            </>
          )}
        </form>
      ) : null}
    </>
  );
}
