import { Config } from '@oclif/core';

/** A flag as users depend on it: its name and letter, value type, default, and which values it takes. */
interface FlagContract {
  type: string;
  char?: string;
  required?: boolean;
  multiple?: boolean;
  default?: unknown;
  options?: readonly string[];
  allowNo?: boolean;
  hidden?: boolean;
  exclusive?: readonly string[];
  dependsOn?: readonly string[];
}

interface ArgContract {
  required?: boolean;
  default?: unknown;
  options?: readonly string[];
}

export interface CommandContract {
  args: Record<string, ArgContract>;
  flags: Record<string, FlagContract>;
  aliases?: readonly string[];
  hidden?: boolean;
}

export type CommandSnapshot = Record<string, CommandContract>;

type Cached = Awaited<ReturnType<typeof Config.load>>['commands'][number];

/**
 * Every command of the CLI with its args and flags, as oclif loads them (the same data as oclif.manifest.json), reduced
 * to what a script calling the CLI depends on. Descriptions are left out: rewording help is not a contract change.
 * Under vitest (NODE_ENV=test) and the update script (development), oclif reads the commands from src/ through tsx.
 */
export async function commandSnapshot(root: string): Promise<CommandSnapshot> {
  const config = await Config.load({ root });
  const snapshot: CommandSnapshot = {};
  for (const command of [...config.commands].sort((a, b) => a.id.localeCompare(b.id))) snapshot[command.id] = contractOf(command);
  return snapshot;
}

function contractOf(command: Cached): CommandContract {
  const args: Record<string, ArgContract> = {};
  for (const [name, arg] of Object.entries(command.args ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    args[name] = prune({ required: arg.required, default: plain(arg.default), options: arg.options });
  }
  const flags: Record<string, FlagContract> = {};
  for (const [name, flag] of Object.entries(command.flags ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const option = flag.type === 'option' ? flag : undefined;
    flags[name] = prune({
      type: flag.type === 'boolean' ? 'boolean' : 'option',
      char: flag.char,
      required: flag.required,
      multiple: option?.multiple,
      default: plain(flag.default),
      options: option?.options,
      allowNo: flag.type === 'boolean' ? flag.allowNo : undefined,
      hidden: flag.hidden,
      exclusive: flag.exclusive,
      dependsOn: flag.dependsOn,
    });
  }
  return prune({ args, flags, aliases: command.aliases?.length ? command.aliases : undefined, hidden: command.hidden || undefined });
}

/** A default computed at run time is recorded as such: the function is not the contract, that there is one is. */
function plain(value: unknown): unknown {
  return typeof value === 'function' ? '<computed>' : value;
}

/** Drops absent and false fields, so the snapshot shows only what a command declares. */
function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))) as T;
}
