import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { loadProjectConfig } from '../core/config/project-config.js';

/** The `--data-dir` flag shared by every command that reads or writes the agentguard data folder. */
export const dataDirFlag = {
  'data-dir': Flags.string({ description: 'The agentguard data folder (default: "dataDir" from agentguard.config.json, else .agentguard).', helpValue: '<folder>' }),
};

/** The data folder a command works on: `--data-dir` when given, else the project's, as an absolute path. */
export async function resolveDataDir(flag: string | undefined): Promise<string> {
  return flag === undefined ? (await loadProjectConfig()).paths.dataDir : resolve(flag);
}
