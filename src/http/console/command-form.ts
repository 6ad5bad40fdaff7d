// The send-a-command form, generated from the command schema of the chosen RequestType (the one
// the admin API validates with): a field per key of the command, typed as the schema types it,
// allowed values as choices, required keys marked, platforms named. What the form sends is turned
// back into the API's JSON command; the API then validates it exactly as it validates any client.
import { commandRegistry, describeCommand, type CommandDefinition, type KeySpec, type ValueSpec } from '../../protocol/commands/index.ts';
import { DESTRUCTIVE_REQUEST_TYPES } from '../../service/permissions.ts';
import { html, type Html } from './html.ts';
import { field, fields, type FormBody } from './session.ts';

const PREFIX = 'k.';

export function requestTypes(): CommandDefinition[] {
  return commandRegistry.current().sort((a, b) => a.requestType.localeCompare(b.requestType));
}

export function isDestructive(requestType: string): boolean {
  return DESTRUCTIVE_REQUEST_TYPES.has(requestType);
}

export function definitionOf(requestType: string): CommandDefinition | undefined {
  return requestType === '' ? undefined : commandRegistry.get(requestType);
}

function payloadKeys(definition: CommandDefinition): KeySpec[] {
  return [...definition.command.keys.values()].filter((k) => k.name !== 'RequestType');
}

/** The RequestType picker; without a script, its button reloads the form for the chosen type. */
export function requestTypePicker(chosen: string, hidden: Html): Html {
  return html`<form method="get" action="/ui/send" class="picker">
${hidden}
<label for="request_type">RequestType</label>
<select id="request_type" name="request_type" data-autosubmit>
<option value="">Choose…</option>
${requestTypes().map((d) => html`<option value="${d.requestType}"${d.requestType === chosen ? html` selected` : ''}>${d.requestType}${isDestructive(d.requestType) ? ' (destructive)' : ''}</option>`)}
</select>
<button type="submit">Show its fields</button>
</form>`;
}

/** The fields of a RequestType's command, filled with what was sent (after a refusal). */
export function commandFields(definition: CommandDefinition, sent: FormBody | undefined): Html {
  const description = describeCommand(definition);
  const keys = payloadKeys(definition);
  return html`<fieldset class="command">
<legend>${definition.requestType}: ${definition.title}</legend>
<p class="muted">Platforms: ${description.platforms.map((p) => `${p.platform} ${p.versions}`).join('; ') || 'none'}</p>
${description.platforms.some((p) => p.conditions.length > 0) ? html`<ul class="muted conditions">${description.platforms.map((p) => html`<li>${p.platform}: ${p.conditions.join(', ')}</li>`)}</ul>` : ''}
${keys.length === 0 ? html`<p>This command takes no keys.</p>` : keys.map((k) => keyField(k, sent))}
</fieldset>`;
}

function keyField(key: KeySpec, sent: FormBody | undefined): Html {
  const name = PREFIX + key.name;
  const id = `f-${key.name}`;
  const label = html`<label for="${id}">${key.name}${key.required ? html` <abbr title="required">*</abbr>` : ''}</label>`;
  const hint = (text: string) => html`<small id="${id}-hint">${text}${key.availability ? ` · ${Object.entries(key.availability).map(([p, v]) => `${p} ${v}`).join(', ')}` : ''}</small>`;
  const spec = key.value;
  const value = field(sent, name);
  const required = key.required ? html` required aria-required="true"` : '';
  if (spec.kind === 'boolean') return booleanField(id, name, value, label);
  if (spec.kind === 'array' && isScalar(spec.items) && spec.items.allowedValues) {
    const chosen = new Set(fields(sent, name));
    return html`<fieldset class="field"><legend>${key.name}${key.required ? html` <abbr title="required">*</abbr>` : ''}</legend>
<div class="choices">${spec.items.allowedValues.map((v, i) => html`<label class="choice"><input type="checkbox" name="${name}" value="${String(v)}" id="${id}-${i}"${chosen.has(String(v)) ? html` checked` : ''}> ${String(v)}</label>`)}</div>
${hint('choose any')}</fieldset>`;
  }
  if (isScalar(spec) && spec.allowedValues) {
    return html`<div class="field">${label}<select id="${id}" name="${name}" aria-describedby="${id}-hint"${required}>
${key.required ? '' : html`<option value="">(not set)</option>`}
${spec.allowedValues.map((v) => html`<option value="${String(v)}"${String(v) === value ? html` selected` : ''}>${String(v)}</option>`)}
</select>${hint(spec.kind)}</div>`;
  }
  if (isScalar(spec)) {
    const type = spec.kind === 'integer' || spec.kind === 'real' ? 'number' : 'text';
    const step = spec.kind === 'real' ? html` step="any"` : '';
    const what = spec.kind === 'data' ? 'data, as base64' : spec.kind === 'date' ? 'date, ISO 8601' : spec.kind;
    return html`<div class="field">${label}<input id="${id}" name="${name}" type="${type}"${step} value="${value}" aria-describedby="${id}-hint"${required}>${hint(what)}</div>`;
  }
  if (spec.kind === 'array' && isScalar(spec.items)) {
    return html`<div class="field">${label}<textarea id="${id}" name="${name}" rows="3" aria-describedby="${id}-hint"${required}>${value}</textarea>${hint(`one ${spec.items.kind} per line`)}</div>`;
  }
  return html`<div class="field">${label}<textarea id="${id}" name="${name}" rows="4" class="code" aria-describedby="${id}-hint"${required}>${value}</textarea>${hint(`${spec.kind === 'array' ? 'array' : 'dictionary'}, as JSON`)}</div>`;
}

function booleanField(id: string, name: string, value: string, label: Html): Html {
  return html`<div class="field">${label}<select id="${id}" name="${name}" aria-describedby="${id}-hint">
<option value="">(not set)</option>
<option value="true"${value === 'true' ? html` selected` : ''}>true</option>
<option value="false"${value === 'false' ? html` selected` : ''}>false</option>
</select><small id="${id}-hint">boolean</small></div>`;
}

type Scalar = Extract<ValueSpec, { kind: 'string' | 'integer' | 'real' | 'boolean' | 'date' | 'data' }>;

function isScalar(spec: ValueSpec): spec is Scalar {
  return ['string', 'integer', 'real', 'boolean', 'date', 'data'].includes(spec.kind);
}

export type BuiltCommand = { ok: true; command: Record<string, unknown> } | { ok: false; errors: { path: string; message: string }[] };

/** The API's JSON command from the form; only what cannot even be read as JSON is refused here. */
export function commandFromForm(definition: CommandDefinition, body: FormBody): BuiltCommand {
  const command: Record<string, unknown> = { RequestType: definition.requestType };
  const errors: { path: string; message: string }[] = [];
  for (const key of payloadKeys(definition)) {
    const name = PREFIX + key.name;
    const spec = key.value;
    if (spec.kind === 'array' && isScalar(spec.items) && spec.items.allowedValues) {
      const chosen = fields(body, name);
      if (chosen.length > 0) command[key.name] = chosen.map((v) => scalar(spec.items as Scalar, v));
      continue;
    }
    const text = field(body, name).trim();
    if (text === '') continue;
    if (isScalar(spec)) command[key.name] = scalar(spec, text);
    else if (spec.kind === 'array' && isScalar(spec.items)) {
      const items = spec.items;
      command[key.name] = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '').map((l) => scalar(items, l));
    } else {
      try {
        command[key.name] = JSON.parse(text);
      } catch (err) {
        errors.push({ path: key.name, message: `is not JSON (${(err as Error).message})` });
      }
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, command };
}

/** Numbers and booleans as the JSON API takes them; anything else as typed (the API says what is wrong). */
function scalar(spec: Scalar, text: string): unknown {
  if ((spec.kind === 'integer' || spec.kind === 'real') && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (spec.kind === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/** Every command field as hidden inputs: the confirmation step carries the form forward. */
export function hiddenCommandFields(body: FormBody): Html {
  return html`${Object.entries(body)
    .filter(([name]) => name.startsWith(PREFIX))
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => html`<input type="hidden" name="${name}" value="${v}">`))}`;
}
