/**
 * Checks of notification payloads against the receivers' published formats: Slack incoming webhooks with
 * Block Kit, PagerDuty Events API v2 (`/v2/enqueue`), Alertmanager API v2 `postableAlerts`. Each returns
 * the list of problems (empty when the payload is valid).
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIso = (v: unknown) =>
  typeof v === 'string' && !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v);

function unknownKeys(o: Obj, allowed: string[], where: string, out: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) out.push(`${where}: unknown key "${k}"`);
}

/**
 * Slack `mrkdwn` that cannot ping or link by accident: `<` only opens a link `<http(s)://...|text>`, and
 * `&` only starts `&amp;`, `&lt;` or `&gt;`.
 */
export function mrkdwnProblems(text: string, where: string): string[] {
  const out: string[] = [];
  const withoutLinks = text.replace(/<https?:\/\/[^<>|\s]+\|[^<>]*>/g, '');
  if (/[<>]/.test(withoutLinks)) out.push(`${where}: unescaped < or > in mrkdwn: ${JSON.stringify(text)}`);
  if (/&(?!amp;|lt;|gt;)/.test(text)) out.push(`${where}: unescaped & in mrkdwn: ${JSON.stringify(text)}`);
  return out;
}

function textObject(t: unknown, where: string, max: number, out: string[], only?: 'plain_text'): void {
  if (!isObj(t)) return void out.push(`${where}: expected a text object`);
  unknownKeys(t, ['type', 'text', 'emoji', 'verbatim'], where, out);
  if (t.type !== 'plain_text' && t.type !== 'mrkdwn') out.push(`${where}: type must be plain_text or mrkdwn`);
  if (only && t.type !== only) out.push(`${where}: must be ${only}`);
  if (typeof t.text !== 'string' || t.text.length === 0)
    return void out.push(`${where}: text must be a non-empty string`);
  if ([...t.text].length > max) out.push(`${where}: text longer than ${max}`);
  if (t.type === 'mrkdwn') out.push(...mrkdwnProblems(t.text, where));
  if (t.type === 'mrkdwn' && 'emoji' in t) out.push(`${where}: emoji is only for plain_text`);
}

function blocks(bs: unknown, where: string, out: string[]): void {
  if (!Array.isArray(bs)) return void out.push(`${where}: expected an array`);
  if (bs.length > 50) out.push(`${where}: more than 50 blocks`);
  for (const [i, b] of bs.entries()) {
    const w = `${where}[${i}]`;
    if (!isObj(b)) {
      out.push(`${w}: expected an object`);
      continue;
    }
    switch (b.type) {
      case 'header':
        unknownKeys(b, ['type', 'text', 'block_id'], w, out);
        textObject(b.text, `${w}.text`, 150, out, 'plain_text');
        break;
      case 'section':
        unknownKeys(b, ['type', 'text', 'fields', 'block_id', 'accessory'], w, out);
        if (b.text === undefined && b.fields === undefined) out.push(`${w}: needs text or fields`);
        if (b.text !== undefined) textObject(b.text, `${w}.text`, 3000, out);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > 10) {
            out.push(`${w}.fields: 1 to 10 text objects`);
          } else for (const [j, f] of b.fields.entries()) textObject(f, `${w}.fields[${j}]`, 2000, out);
        }
        break;
      case 'context':
        unknownKeys(b, ['type', 'elements', 'block_id'], w, out);
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
          out.push(`${w}.elements: 1 to 10 elements`);
        } else for (const [j, e] of b.elements.entries()) textObject(e, `${w}.elements[${j}]`, 3000, out);
        break;
      case 'divider':
        break;
      default:
        out.push(`${w}: unexpected block type ${JSON.stringify(b.type)}`);
    }
  }
}

/** Problems of a Slack incoming-webhook message. */
export function checkSlackMessage(m: unknown): string[] {
  const out: string[] = [];
  if (!isObj(m)) return ['message: expected an object'];
  unknownKeys(
    m,
    ['text', 'blocks', 'attachments', 'mrkdwn', 'thread_ts', 'username', 'icon_emoji'],
    'message',
    out,
  );
  if (typeof m.text !== 'string' || !m.text)
    out.push('message.text: the fallback text is required with blocks');
  else out.push(...mrkdwnProblems(m.text, 'message.text'));
  if (m.blocks !== undefined) blocks(m.blocks, 'blocks', out);
  if (m.attachments !== undefined) {
    if (!Array.isArray(m.attachments)) out.push('attachments: expected an array');
    else {
      for (const [i, a] of m.attachments.entries()) {
        const w = `attachments[${i}]`;
        if (!isObj(a)) {
          out.push(`${w}: expected an object`);
          continue;
        }
        unknownKeys(a, ['color', 'blocks', 'fallback'], w, out);
        if (typeof a.color !== 'string' || !/^(#[0-9a-fA-F]{6}|good|warning|danger)$/.test(a.color)) {
          out.push(`${w}.color: expected #rrggbb`);
        }
        blocks(a.blocks, `${w}.blocks`, out);
      }
    }
  }
  return out;
}

const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** Problems of a PagerDuty Events API v2 event. */
export function checkPagerDutyEvent(e: unknown): string[] {
  const out: string[] = [];
  if (!isObj(e)) return ['event: expected an object'];
  unknownKeys(
    e,
    ['routing_key', 'event_action', 'dedup_key', 'payload', 'images', 'links', 'client', 'client_url'],
    'event',
    out,
  );
  if (typeof e.routing_key !== 'string' || !e.routing_key) out.push('routing_key: required');
  if (!['trigger', 'acknowledge', 'resolve'].includes(e.event_action as string))
    out.push('event_action: trigger|acknowledge|resolve');
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) {
    out.push('dedup_key: a string of at most 255 characters');
  }
  if (e.event_action !== 'trigger') {
    if (typeof e.dedup_key !== 'string') out.push('dedup_key: required to acknowledge or resolve');
    return out;
  }
  const p = e.payload;
  if (!isObj(p)) return [...out, 'payload: required for trigger'];
  unknownKeys(
    p,
    ['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details'],
    'payload',
    out,
  );
  if (typeof p.summary !== 'string' || !p.summary) out.push('payload.summary: required');
  else if ([...p.summary].length > 1024) out.push('payload.summary: longer than 1024 characters');
  if (typeof p.source !== 'string' || !p.source) out.push('payload.source: required');
  if (!PD_SEVERITIES.includes(p.severity as string))
    out.push('payload.severity: critical|error|warning|info');
  if (p.timestamp !== undefined && !isIso(p.timestamp)) out.push('payload.timestamp: ISO 8601');
  for (const k of ['component', 'group', 'class'])
    if (p[k] !== undefined && typeof p[k] !== 'string') out.push(`payload.${k}: string`);
  if (p.custom_details !== undefined && !isObj(p.custom_details)) out.push('payload.custom_details: object');
  if (e.links !== undefined) {
    if (!Array.isArray(e.links)) out.push('links: array');
    else
      for (const l of e.links)
        if (!isObj(l) || typeof l.href !== 'string') out.push('links[]: href required');
  }
  return out;
}

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Problems of an Alertmanager API v2 `POST /api/v2/alerts` body. */
export function checkAlertmanagerAlerts(body: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(body)) return ['body: expected an array of alerts'];
  for (const [i, a] of body.entries()) {
    const w = `alerts[${i}]`;
    if (!isObj(a)) {
      out.push(`${w}: expected an object`);
      continue;
    }
    unknownKeys(a, ['labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL'], w, out);
    if (!isObj(a.labels) || Object.keys(a.labels).length === 0) out.push(`${w}.labels: required`);
    else {
      for (const [k, v] of Object.entries(a.labels)) {
        if (!LABEL.test(k)) out.push(`${w}.labels: invalid name ${JSON.stringify(k)}`);
        if (typeof v !== 'string') out.push(`${w}.labels.${k}: string`);
      }
    }
    if (a.annotations !== undefined) {
      if (!isObj(a.annotations)) out.push(`${w}.annotations: object`);
      else
        for (const [k, v] of Object.entries(a.annotations))
          if (typeof v !== 'string') out.push(`${w}.annotations.${k}: string`);
    }
    for (const k of ['startsAt', 'endsAt'])
      if (a[k] !== undefined && !isIso(a[k])) out.push(`${w}.${k}: date-time`);
    if (
      a.generatorURL !== undefined &&
      (typeof a.generatorURL !== 'string' || !/^https?:\/\//.test(a.generatorURL))
    ) {
      out.push(`${w}.generatorURL: uri`);
    }
  }
  return out;
}
