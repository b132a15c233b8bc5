/**
 * Where each MCP client keeps its configuration, per platform, under `options.home` (and `$XDG_CONFIG_HOME`), and in
 * every project folder: the `options.paths` and the folders the project walk found under them. On Windows `%APPDATA%`
 * is taken as `<home>/AppData/Roaming` so tests can use a fixture home.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { ScanOptions } from '../types.js';

export type McpClientId =
  | 'claude-desktop'
  | 'claude-code'
  | 'cursor'
  | 'windsurf'
  | 'vscode'
  | 'gemini-cli'
  | 'cline'
  | 'zed'
  | 'continue';

export const CLIENT_LABELS: Readonly<Record<McpClientId, string>> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  windsurf: 'Windsurf',
  vscode: 'VS Code',
  'gemini-cli': 'Gemini CLI',
  cline: 'Cline',
  zed: 'Zed',
  continue: 'Continue',
};

/**
 * How servers are laid out in a file:
 * - `mcpServers`: `{ mcpServers: { name: entry } }` (Claude Desktop, Cursor, Windsurf, Gemini CLI, Cline, `.mcp.json`);
 * - `claude-code`: like `mcpServers`, plus `projects[path].mcpServers`;
 * - `vscode-mcp`: `{ servers: { name: entry } }`;
 * - `vscode-settings`: `"mcp.servers"` or `mcp: { servers }`;
 * - `zed`: `context_servers`;
 * - `continue`: `mcpServers` as a list of `{ name, … }` or an object.
 */
export type ConfigShape = 'mcpServers' | 'claude-code' | 'vscode-mcp' | 'vscode-settings' | 'zed' | 'continue';

export interface ConfigLocation {
  client: McpClientId;
  /** Absolute path of the file. */
  path: string;
  syntax: 'json' | 'jsonc' | 'yaml';
  shape: ConfigShape;
  scope: 'user' | 'project';
}

/** A folder whose files are each one config (Continue's `.continue/mcpServers/*.yaml`). */
export interface ConfigFolder {
  client: McpClientId;
  /** Absolute path of the folder. */
  dir: string;
  shape: ConfigShape;
  scope: 'user' | 'project';
}

/**
 * Per-user application data folders: Linux `$XDG_CONFIG_HOME` (else `~/.config`), macOS Application Support,
 * Windows %APPDATA%.
 */
function appDataDirs(home: string, platform: NodeJS.Platform, xdgConfigHome: string | undefined): string[] {
  if (platform === 'darwin') return [join(home, 'Library', 'Application Support')];
  if (platform === 'win32') return [join(home, 'AppData', 'Roaming')];
  const fallback = join(home, '.config');
  // Apps that honour XDG use only $XDG_CONFIG_HOME when it is set; ~/.config is read too, since a config left there
  // by another session or app version is still on this machine.
  return xdgConfigHome && isAbsolute(xdgConfigHome) && resolve(xdgConfigHome) !== fallback ? [resolve(xdgConfigHome), fallback] : [fallback];
}

/** Where project-level MCP configs live, relative to a project folder. */
const PROJECT_CONFIGS: ReadonlyArray<[McpClientId, string[], ConfigLocation['syntax'], ConfigShape]> = [
  ['claude-code', ['.mcp.json'], 'json', 'mcpServers'],
  ['cursor', ['.cursor', 'mcp.json'], 'json', 'mcpServers'],
  ['vscode', ['.vscode', 'mcp.json'], 'jsonc', 'vscode-mcp'],
  ['gemini-cli', ['.gemini', 'settings.json'], 'jsonc', 'mcpServers'],
];

/** Names in a folder that show it holds a project-level MCP config (the project walk looks for them). */
export const PROJECT_CONFIG_MARKERS: ReadonlySet<string> = new Set([...PROJECT_CONFIGS.map(([, rel]) => rel[0]), '.continue']);

export interface LocationOptions extends Pick<ScanOptions, 'home' | 'paths' | 'platform' | 'xdgConfigHome'> {
  /** Project folders found under `paths` by the project walk: their MCP configs are read too. */
  projectDirs?: readonly string[];
}

export function mcpConfigLocations(options: LocationOptions): ConfigLocation[] {
  return mcpConfigPlaces(options).files;
}

/** Every config file and config folder to read, user-level first, then each project folder's. */
export function mcpConfigPlaces(options: LocationOptions): { files: ConfigLocation[]; folders: ConfigFolder[] } {
  const { home, platform } = options;
  const appData = appDataDirs(home, platform, options.xdgConfigHome);
  const user = (client: McpClientId, path: string, syntax: ConfigLocation['syntax'], shape: ConfigShape): ConfigLocation => ({
    client, path, syntax, shape, scope: 'user',
  });

  const inAppData = (...rel: string[]) => appData.map((dir) => join(dir, ...rel));
  const zedDirs = platform === 'win32' ? inAppData('Zed') : platform === 'darwin' ? [join(home, '.config', 'zed')] : inAppData('zed');
  const locations: ConfigLocation[] = [
    ...inAppData('Claude', 'claude_desktop_config.json').map((p) => user('claude-desktop', p, 'json', 'mcpServers')),
    user('claude-code', join(home, '.claude.json'), 'json', 'claude-code'),
    user('cursor', join(home, '.cursor', 'mcp.json'), 'json', 'mcpServers'),
    user('windsurf', join(home, '.codeium', 'windsurf', 'mcp_config.json'), 'json', 'mcpServers'),
    ...inAppData('Code', 'User', 'mcp.json').map((p) => user('vscode', p, 'jsonc', 'vscode-mcp')),
    ...inAppData('Code', 'User', 'settings.json').map((p) => user('vscode', p, 'jsonc', 'vscode-settings')),
    user('gemini-cli', join(home, '.gemini', 'settings.json'), 'jsonc', 'mcpServers'),
    ...inAppData('Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json').map((p) => user('cline', p, 'json', 'mcpServers')),
    ...zedDirs.map((dir) => user('zed', join(dir, 'settings.json'), 'jsonc', 'zed')),
    user('continue', join(home, '.continue', 'config.json'), 'json', 'continue'),
    user('continue', join(home, '.continue', 'config.yaml'), 'yaml', 'continue'),
  ];
  const folders: ConfigFolder[] = [{ client: 'continue', dir: join(home, '.continue', 'mcpServers'), shape: 'continue', scope: 'user' }];

  for (const folder of [...options.paths, ...(options.projectDirs ?? [])]) {
    const root = resolve(folder);
    for (const [client, rel, syntax, shape] of PROJECT_CONFIGS) locations.push({ client, path: join(root, ...rel), syntax, shape, scope: 'project' });
    folders.push({ client: 'continue', dir: join(root, '.continue', 'mcpServers'), shape: 'continue', scope: 'project' });
  }

  // A project folder may be the home folder itself: read each file once.
  const seen = new Set<string>();
  const once = (key: string) => (seen.has(key) ? false : (seen.add(key), true));
  return {
    files: locations.filter((l) => once(`${l.client}\0${l.path}`)),
    folders: folders.filter((f) => once(`${f.client}\0${f.dir}/`)),
  };
}

/** The config files of a config folder: `*.yaml`, `*.yml` and `*.json`, in name order. */
export function folderConfigFiles(folder: ConfigFolder, names: readonly string[]): ConfigLocation[] {
  return names
    .filter((n) => /\.(ya?ml|json)$/i.test(n))
    .sort()
    .map((n) => ({ client: folder.client, path: join(folder.dir, n), syntax: /\.json$/i.test(n) ? 'json' : 'yaml', shape: folder.shape, scope: folder.scope }));
}
