/**
 * Where each MCP client keeps its configuration, per platform, under `options.home` (and the project folders in
 * `options.paths`). On Windows `%APPDATA%` is taken as `<home>/AppData/Roaming` so tests can use a fixture home.
 */
import { join, resolve } from 'node:path';
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

/** Per-user application data folders: Linux XDG config, macOS Application Support, Windows %APPDATA%. */
function appDataDir(home: string, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support');
  if (platform === 'win32') return join(home, 'AppData', 'Roaming');
  return join(home, '.config');
}

export function mcpConfigLocations(options: Pick<ScanOptions, 'home' | 'paths' | 'platform'>): ConfigLocation[] {
  const { home, platform } = options;
  const appData = appDataDir(home, platform);
  const codeUser = join(appData, 'Code', 'User');
  const zedDir = platform === 'win32' ? join(appData, 'Zed') : join(home, '.config', 'zed');
  const user = (client: McpClientId, path: string, syntax: ConfigLocation['syntax'], shape: ConfigShape): ConfigLocation => ({
    client, path, syntax, shape, scope: 'user',
  });

  const locations: ConfigLocation[] = [
    user('claude-desktop', join(appData, 'Claude', 'claude_desktop_config.json'), 'json', 'mcpServers'),
    user('claude-code', join(home, '.claude.json'), 'json', 'claude-code'),
    user('cursor', join(home, '.cursor', 'mcp.json'), 'json', 'mcpServers'),
    user('windsurf', join(home, '.codeium', 'windsurf', 'mcp_config.json'), 'json', 'mcpServers'),
    user('vscode', join(codeUser, 'mcp.json'), 'jsonc', 'vscode-mcp'),
    user('vscode', join(codeUser, 'settings.json'), 'jsonc', 'vscode-settings'),
    user('gemini-cli', join(home, '.gemini', 'settings.json'), 'jsonc', 'mcpServers'),
    user('cline', join(codeUser, 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json'), 'json', 'mcpServers'),
    user('zed', join(zedDir, 'settings.json'), 'jsonc', 'zed'),
    user('continue', join(home, '.continue', 'config.json'), 'json', 'continue'),
    user('continue', join(home, '.continue', 'config.yaml'), 'yaml', 'continue'),
  ];

  for (const folder of options.paths) {
    const root = resolve(folder);
    const project = (client: McpClientId, rel: string[], syntax: ConfigLocation['syntax'], shape: ConfigShape) =>
      locations.push({ client, path: join(root, ...rel), syntax, shape, scope: 'project' });
    project('claude-code', ['.mcp.json'], 'json', 'mcpServers');
    project('cursor', ['.cursor', 'mcp.json'], 'json', 'mcpServers');
    project('vscode', ['.vscode', 'mcp.json'], 'jsonc', 'vscode-mcp');
    project('gemini-cli', ['.gemini', 'settings.json'], 'jsonc', 'mcpServers');
  }

  // A project folder may be the home folder itself: read each file once.
  const seen = new Set<string>();
  return locations.filter((l) => {
    const key = `${l.client}\0${l.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
