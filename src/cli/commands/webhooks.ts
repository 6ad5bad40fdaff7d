// `aspen webhooks list|add|enable|remove|test|deliveries|replay`: webhook endpoints, what was
// delivered to them, and delivering again.
import { segment } from '../api-client.ts';
import { expectPositionals, stringOption } from '../args.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { UsageError } from '../errors.ts';
import { print, printJson, warn } from '../output.ts';
import { keyValues, orDash, shortTime, table } from '../table.ts';
import type { WebhookDeliveries, WebhookEndpointJson } from '../api-types.ts';

function endpointTable(list: WebhookEndpointJson[]): string {
  return table(
    ['ID', 'URL', 'FORMAT', 'TOPICS', 'STATE', 'SOURCE'],
    list.map((e) => [e.id, e.url, e.format, e.topics === null ? 'all' : e.topics.join(','), e.enabled ? 'enabled' : `disabled: ${orDash(e.disabled_reason)}`, e.source]),
  );
}

export const webhooksList: CliCommand = {
  name: 'webhooks list',
  usage: ['webhooks list'],
  summary: 'webhook endpoints (WEBHOOK_URL’s too)',
  options: REMOTE_OPTIONS,
  async run(args) {
    expectPositionals(args, []);
    const { webhooks } = await connect(args).get<{ webhooks: WebhookEndpointJson[] }>('/v1/webhooks');
    if (args.values.json) return printJson({ webhooks });
    print(webhooks.length === 0 ? 'no webhook endpoints' : endpointTable(webhooks));
  },
};

export const webhooksAdd: CliCommand = {
  name: 'webhooks add',
  usage: ['webhooks add <url> [--format micromdm|standard] [--topics a,b] [--secret S] [--include-secrets]'],
  summary: 'add an endpoint; prints its signing secret (generated unless --secret), shown this once',
  options: { ...REMOTE_OPTIONS, format: 'string', topics: 'string', secret: 'string', 'include-secrets': 'boolean' },
  async run(args) {
    const [url] = expectPositionals(args, ['<url>']);
    const topics = stringOption(args, 'topics');
    const body = {
      url,
      ...(stringOption(args, 'format') ? { format: stringOption(args, 'format') } : {}),
      ...(topics ? { topics: topics.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
      ...(stringOption(args, 'secret') ? { secret: stringOption(args, 'secret') } : {}),
      ...(args.values['include-secrets'] ? { include_secrets: true } : {}),
    };
    const created = await connect(args).post<WebhookEndpointJson & { secret: string }>('/v1/webhooks', body);
    if (args.values.json) return printJson(created);
    print(keyValues([['id', created.id], ['url', created.url], ['format', created.format], ['topics', created.topics?.join(', ') ?? 'all'], ['secret', created.secret]]));
    warn('the secret is shown this once: give it to the receiver now');
  },
};

export const webhooksEnable: CliCommand = {
  name: 'webhooks enable',
  usage: ['webhooks enable <id>', 'webhooks enable <id> --off'],
  summary: 'enable an endpoint again (after a 410 Gone), or with --off disable it',
  options: { ...REMOTE_OPTIONS, off: 'boolean' },
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const updated = await connect(args).patch<WebhookEndpointJson>(`/v1/webhooks/${segment(id)}`, { enabled: !args.values.off });
    if (args.values.json) return printJson(updated);
    print(`${updated.id} ${updated.enabled ? 'enabled' : 'disabled'}`);
  },
};

export const webhooksRemove: CliCommand = {
  name: 'webhooks remove',
  usage: ['webhooks remove <id>'],
  summary: 'remove an endpoint and its deliveries',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    await connect(args).delete(`/v1/webhooks/${segment(id)}`);
    if (!args.values.json) print(`removed ${id}`);
  },
};

export const webhooksTest: CliCommand = {
  name: 'webhooks test',
  usage: ['webhooks test <id>'],
  summary: 'send a signed test event (aspen.test) now and show what the receiver answered',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const outcome = await connect(args).post<{ status: number | null; latency_ms: number; error?: string }>(`/v1/webhooks/${segment(id)}/test`);
    if (args.values.json) return printJson(outcome);
    if (outcome.status === null) print(`not delivered: ${outcome.error ?? 'no answer'} (${outcome.latency_ms} ms)`);
    else print(`the receiver answered ${outcome.status} in ${outcome.latency_ms} ms`);
    if (outcome.status === null || outcome.status >= 300) process.exitCode = 1;
  },
};

export const webhooksDeliveries: CliCommand = {
  name: 'webhooks deliveries',
  usage: ['webhooks deliveries <id> [--state pending|delivered|dead] [--limit N] [--cursor C]'],
  summary: "an endpoint's delivery log, newest first: attempts, status, latency, last error",
  options: { ...REMOTE_OPTIONS, state: 'string', limit: 'string', cursor: 'string' },
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const page = await connect(args).get<WebhookDeliveries>(`/v1/webhooks/${segment(id)}/deliveries`, {
      state: stringOption(args, 'state'),
      limit: stringOption(args, 'limit'),
      cursor: stringOption(args, 'cursor'),
    });
    if (args.values.json) return printJson(page);
    print(
      page.deliveries.length === 0
        ? 'no deliveries'
        : table(
            ['EVENT', 'TOPIC', 'CREATED', 'STATE', 'ATTEMPTS', 'LAST', 'LATENCY', 'NEXT'],
            page.deliveries.map((d) => [
              d.event_id,
              d.topic,
              shortTime(d.created_at),
              d.state,
              String(d.attempts),
              d.last_status === null ? orDash(d.last_error) : String(d.last_status),
              d.last_latency_ms === null ? '-' : `${d.last_latency_ms} ms`,
              d.state === 'pending' ? shortTime(d.next_attempt_at) : '-',
            ]),
          ),
    );
    if (page.next_cursor !== null) warn(`more deliveries: --cursor ${page.next_cursor}`);
  },
};

export const webhooksReplay: CliCommand = {
  name: 'webhooks replay',
  usage: ['webhooks replay <id> --event EVENT_ID', 'webhooks replay <id> --since ISO'],
  summary: 'deliver again one event, or every event since a time (dead-lettered ones included)',
  options: { ...REMOTE_OPTIONS, event: 'string', since: 'string' },
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const event = stringOption(args, 'event');
    const since = stringOption(args, 'since');
    if ((event === undefined) === (since === undefined)) throw new UsageError('give one of --event EVENT_ID and --since ISO');
    const body = event !== undefined ? { event_id: event } : { since };
    const { replayed } = await connect(args).post<{ replayed: number }>(`/v1/webhooks/${segment(id)}/replay`, body);
    if (args.values.json) return printJson({ replayed });
    print(`${replayed} ${replayed === 1 ? 'delivery' : 'deliveries'} pending again`);
  },
};
