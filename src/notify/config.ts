import { AgentGuardError } from '../core/errors.js';
import type { ChannelSubscription } from '../core/approvals/deliveries.js';
import type { ApprovalChange } from '../core/approvals/types.js';
import type { NotifyChannel } from './types.js';
import { isPlainObject } from '../core/plain-object.js';

/** Every event a channel can ask for. */
export const NOTIFY_EVENTS: readonly ApprovalChange['event'][] = ['requested', 'escalated', 'approved', 'denied', 'expired', 'cancelled', 'consumed'];
/** What a channel gets when it names no events: everything a person acts on or wants to know, not each use. */
export const DEFAULT_NOTIFY_EVENTS: readonly ApprovalChange['event'][] = ['requested', 'escalated', 'approved', 'denied', 'expired', 'cancelled'];

const FIELDS = {
  webhook: ['type', 'name', 'url', 'secretEnv', 'events'],
  slack: ['type', 'name', 'webhookUrlEnv', 'signingSecretEnv', 'events'],
} as const;


function invalid(where: string, message: string, fix: string): AgentGuardError {
  return new AgentGuardError('CONFIG_INVALID', `${where} ${message}`, { actions: [fix] });
}

/** What a process can do with the configured channels: queue for all of them, send to those whose secrets it has. */
export interface NotifySetup {
  /** Every configured channel by name and events: changes are queued for all of them. */
  subscriptions: ChannelSubscription[];
  /** The channels this process can send to (their environment variables are set). */
  channels: NotifyChannel[];
  /** Channels left to another process (the sidecar), with the variable that is not set here and where it is named. */
  missing: { channel: string; env: string; where: string }[];
}

/**
 * The notification channels of the `approvals` section of agentguard.config.json, checked, with their secrets read
 * from the environment variables it names (never from the file itself). Strict: a variable that is not set is an
 * error (`NOTIFY_SECRET_MISSING`), as the sidecar needs. `where` names the section in messages.
 *
 * @example
 * // "approvals": { "notify": [
 * //   { "type": "webhook", "name": "ops", "url": "https://hooks.example.com/agentguard", "secretEnv": "AGENTGUARD_WEBHOOK_SECRET" },
 * //   { "type": "slack", "webhookUrlEnv": "SLACK_WEBHOOK_URL", "signingSecretEnv": "SLACK_SIGNING_SECRET" } ] }
 * const channels = notifyChannels(project.config.approvals, 'agentguard.config.json: approvals');
 */
export function notifyChannels(section: unknown, where: string, env: NodeJS.ProcessEnv = process.env): NotifyChannel[] {
  const setup = readNotifySetup(section, where, env);
  const first = setup.missing[0];
  if (first !== undefined) throw secretMissing(first.env, first.where);
  return setup.channels;
}

/**
 * Like notifyChannels, but a channel whose variables are not set here is only left out of `channels` (and named in
 * `missing`), so a CLI run by a person without the secrets still queues every notification for the sidecar to send.
 */
export function readNotifySetup(section: unknown, where: string, env: NodeJS.ProcessEnv = process.env): NotifySetup {
  const setup: NotifySetup = { subscriptions: [], channels: [], missing: [] };
  if (section === undefined) return setup;
  if (!isPlainObject(section)) throw invalid(where, 'must be an object', 'Write "approvals": { "notify": [ ... ] }.');
  for (const key of Object.keys(section)) {
    if (key !== 'notify') throw invalid(where, `has an unknown field "${key}"`, 'Allowed: notify.');
  }
  const list = section.notify ?? [];
  if (!Array.isArray(list)) throw invalid(`${where}.notify`, 'must be a list of channels', 'Write "notify": [ { "type": "webhook", ... } ].');
  list.forEach((entry, i) => {
    const at = `${where}.notify[${i}]`;
    const missing: { env: string; where: string }[] = [];
    const found = channel(entry, at, (name, field, what) => {
      const value = secretFrom(name, `${at}.${field}`, env, what);
      if (value === undefined) missing.push({ env: name as string, where: `${at}.${field}` });
      return value ?? '';
    });
    if (setup.subscriptions.some((c) => c.name === found.name)) {
      throw invalid(`${at}.name`, `repeats the name ${JSON.stringify(found.name)}`, 'Give each channel its own "name".');
    }
    setup.subscriptions.push({ name: found.name, events: found.events });
    if (missing.length === 0) setup.channels.push(found);
    else setup.missing.push({ channel: found.name, ...missing[0]! });
  });
  return setup;
}

type SecretReader = (name: unknown, field: string, what: string) => string;

function channel(entry: unknown, where: string, secret: SecretReader): NotifyChannel {
  if (!isPlainObject(entry)) throw invalid(where, 'must be an object', 'Write { "type": "webhook", "url": "...", "secretEnv": "..." } or { "type": "slack", ... }.');
  const type = entry.type;
  if (type !== 'webhook' && type !== 'slack') throw invalid(`${where}.type`, `is ${JSON.stringify(type)}`, 'Use "webhook" or "slack".');
  for (const key of Object.keys(entry)) {
    if (!(FIELDS[type] as readonly string[]).includes(key)) throw invalid(where, `has an unknown field "${key}" for a ${type} channel`, `Allowed: ${FIELDS[type].join(', ')}.`);
  }
  const name = entry.name ?? type;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw invalid(`${where}.name`, `is ${JSON.stringify(name)}`, 'Use 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit.');
  }
  const events = checkEvents(entry.events, `${where}.events`);
  if (type === 'webhook') {
    const url = checkUrl(entry.url, `${where}.url`);
    return { type, name, url, secret: secret(entry.secretEnv, 'secretEnv', 'the HMAC key receivers verify `agentguard-signature` with'), events };
  }
  const webhookUrl = secret(entry.webhookUrlEnv, 'webhookUrlEnv', "the Slack app's incoming-webhook URL");
  if (webhookUrl !== '') checkUrl(webhookUrl, `the Slack webhook URL in $${String(entry.webhookUrlEnv)}`, { quote: false });
  const signingSecret = secret(entry.signingSecretEnv, 'signingSecretEnv', "the Slack app's signing secret (Basic Information → App Credentials)");
  return { type, name, webhookUrl, signingSecret, events };
}

function checkEvents(value: unknown, where: string): ApprovalChange['event'][] {
  if (value === undefined) return [...DEFAULT_NOTIFY_EVENTS];
  const known = NOTIFY_EVENTS as readonly string[];
  if (!Array.isArray(value) || value.length === 0 || value.some((e) => typeof e !== 'string' || !known.includes(e))) {
    throw invalid(where, `is ${JSON.stringify(value)}`, `List one or more of: ${NOTIFY_EVENTS.join(', ')} (default: all but consumed).`);
  }
  return [...new Set(value as ApprovalChange['event'][])];
}

/** An https URL, or http to this machine only (a receiver beside the sidecar): approvals are not sent in clear over a network. */
function checkUrl(value: unknown, where: string, options: { quote?: boolean } = {}): string {
  const shown = options.quote === false ? '' : ` (${JSON.stringify(value)})`;
  let url: URL;
  try {
    if (typeof value !== 'string') throw new TypeError('not a string');
    url = new URL(value);
  } catch {
    throw invalid(where, `is not a URL${shown}`, 'Give an absolute https:// URL.');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw invalid(where, `must use https${shown}`, 'Approvals carry what an agent wants to do: use https:// (plain http is accepted only for localhost).');
  }
  return value as string;
}

/** The value of the variable `name` names; undefined when it is not set (or blank). */
function secretFrom(name: unknown, where: string, env: NodeJS.ProcessEnv, what: string): string | undefined {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw invalid(where, `is ${JSON.stringify(name)}`, `Name the environment variable that holds ${what}; the secret itself never goes in the config file.`);
  }
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function secretMissing(name: string, where: string): AgentGuardError {
  return new AgentGuardError('NOTIFY_SECRET_MISSING', `${where}: the environment variable ${name} is not set`, {
    actions: [`Set ${name} in the environment of the process that sends approval notifications and checks their callbacks (the sidecar).`],
  });
}
