// What a template needs filled before it can be sent, read from the components the template sync keeps
// (Meta's shape: HEADER / BODY / FOOTER / BUTTONS, `{{1}}` positional or `{{name}}` named parameters),
// and the Graph `components` a filled-in template is sent with. Pure: data in, data out.
import { AppError } from '../lib/app-error.js';

export interface TemplateParameter {
  component: 'header' | 'body';
  /** "1", "2", … for positional parameters; the parameter's name for named ones. */
  name: string;
  /** Meta's example value, when the template carries one. */
  example: string | null;
}

export interface TemplateShape {
  header: string | null;
  body: string | null;
  footer: string | null;
  parameters: TemplateParameter[];
  /** Why this template cannot be sent from a text form (a media header, a button with a variable). */
  unsupported: string | null;
}

type Component = Record<string, unknown>;

const VARIABLE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
/** A filled value: Meta refuses newlines, tabs and runs of more than 4 spaces in a parameter. */
const MAX_VALUE = 1024;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function variables(text: string | null): string[] {
  if (!text) return [];
  const seen: string[] = [];
  for (const m of text.matchAll(VARIABLE)) if (!seen.includes(m[1] as string)) seen.push(m[1] as string);
  // Positional parameters are sent in number order, whatever order the text uses them in.
  return seen.every((n) => /^\d+$/.test(n)) ? seen.sort((a, b) => Number(a) - Number(b)) : seen;
}

function examples(component: Component, kind: 'header' | 'body'): Map<string, string> {
  const out = new Map<string, string>();
  const ex = component.example as Record<string, unknown> | undefined;
  if (!ex || typeof ex !== 'object') return out;
  const positional = kind === 'header' ? ex.header_text : (ex.body_text as unknown[] | undefined)?.[0];
  if (Array.isArray(positional)) {
    for (const [i, v] of positional.entries()) if (typeof v === 'string') out.set(String(i + 1), v);
  }
  const named = ex[`${kind}_text_named_params`];
  if (Array.isArray(named)) {
    for (const p of named as Record<string, unknown>[]) {
      const n = str(p?.param_name);
      const v = str(p?.example);
      if (n && v) out.set(n, v);
    }
  }
  return out;
}

/** The template's text and parameters; null when its components are not known (not synced). */
export function templateShape(componentsJson: string | null | undefined): TemplateShape | null {
  if (!componentsJson) return null;
  let components: Component[];
  try {
    const parsed = JSON.parse(componentsJson) as unknown;
    if (!Array.isArray(parsed)) return null;
    components = parsed.filter((c): c is Component => typeof c === 'object' && c !== null);
  } catch {
    return null;
  }
  const shape: TemplateShape = { header: null, body: null, footer: null, parameters: [], unsupported: null };
  for (const c of components) {
    const type = String(c.type ?? '').toUpperCase();
    if (type === 'HEADER') {
      const format = String(c.format ?? 'TEXT').toUpperCase();
      if (format !== 'TEXT') {
        const kind = format.toLowerCase();
        shape.unsupported = `its header is ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}, which the dashboard cannot attach`;
        continue;
      }
      shape.header = str(c.text);
    } else if (type === 'BODY') {
      shape.body = str(c.text);
    } else if (type === 'FOOTER') {
      shape.footer = str(c.text);
    } else if (type === 'BUTTONS') {
      const buttons = Array.isArray(c.buttons) ? (c.buttons as Component[]) : [];
      if (buttons.some((b) => variables(str(b?.url)).length > 0)) {
        shape.unsupported = 'a button takes a variable, which the dashboard cannot fill';
      }
    }
  }
  for (const kind of ['header', 'body'] as const) {
    const component = components.find((c) => String(c.type ?? '').toUpperCase() === kind.toUpperCase());
    const ex = component ? examples(component, kind) : new Map<string, string>();
    for (const name of variables(shape[kind])) {
      shape.parameters.push({ component: kind, name, example: ex.get(name) ?? null });
    }
  }
  return shape;
}

/** The form field that carries one parameter's value. */
export function parameterField(p: TemplateParameter): string {
  return `param.${p.component}.${p.name}`;
}

/**
 * The Graph components for the template with these values (by parameterField); every parameter is
 * required. A template whose components are unknown is sent without parameters.
 */
export function fillTemplate(
  shape: TemplateShape | null,
  values: Record<string, unknown>,
): Record<string, unknown>[] | undefined {
  if (!shape || shape.parameters.length === 0) return undefined;
  const out: Record<string, unknown>[] = [];
  for (const kind of ['header', 'body'] as const) {
    const params = shape.parameters.filter((p) => p.component === kind);
    if (params.length === 0) continue;
    out.push({
      type: kind,
      parameters: params.map((p) => {
        const raw = values[parameterField(p)];
        const text = typeof raw === 'string' ? raw.trim() : '';
        const label = `${kind} parameter {{${p.name}}}`;
        if (!text) throw new AppError('validation_failed', `Fill in the ${label}.`);
        if (text.length > MAX_VALUE || /[\n\t]| {5,}/.test(text)) {
          throw new AppError(
            'validation_failed',
            `The ${label} must be one line of at most ${MAX_VALUE} characters (WhatsApp refuses newlines, tabs and long runs of spaces).`,
          );
        }
        return /^\d+$/.test(p.name) ? { type: 'text', text } : { type: 'text', parameter_name: p.name, text };
      }),
    });
  }
  return out;
}
