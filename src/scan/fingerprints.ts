/**
 * Names that reveal agent frameworks, LLM SDKs and agent tools, shared by the process and project scanners.
 * Package names are matched exactly (npm) or case-insensitively with `-`/`_` folded (PyPI); module names are what a
 * Python `import` or a JS `require`/`import` names.
 */

export interface Fingerprint {
  /** The name reports use. */
  name: string;
  category: 'agent-framework' | 'llm-sdk' | 'mcp-sdk' | 'agentguard';
  npm?: string[];
  pypi?: string[];
  /** Python import roots. */
  pythonModules?: string[];
}

export const FINGERPRINTS: readonly Fingerprint[] = [
  { name: 'LangChain', category: 'agent-framework', npm: ['langchain', '@langchain/core', '@langchain/openai', '@langchain/anthropic', '@langchain/community'], pypi: ['langchain', 'langchain-core', 'langchain-openai', 'langchain-anthropic', 'langchain-community'], pythonModules: ['langchain', 'langchain_core', 'langchain_openai', 'langchain_anthropic', 'langchain_community'] },
  { name: 'LangGraph', category: 'agent-framework', npm: ['@langchain/langgraph'], pypi: ['langgraph'], pythonModules: ['langgraph'] },
  { name: 'AutoGen', category: 'agent-framework', pypi: ['autogen', 'pyautogen', 'autogen-agentchat', 'autogen-core', 'ag2'], pythonModules: ['autogen', 'autogen_agentchat', 'autogen_core', 'ag2'] },
  { name: 'CrewAI', category: 'agent-framework', pypi: ['crewai', 'crewai-tools'], pythonModules: ['crewai', 'crewai_tools'] },
  { name: 'LlamaIndex', category: 'agent-framework', npm: ['llamaindex'], pypi: ['llama-index', 'llama-index-core'], pythonModules: ['llama_index'] },
  { name: 'OpenAI Agents', category: 'agent-framework', npm: ['@openai/agents'], pypi: ['openai-agents'], pythonModules: ['agents'] },
  { name: 'Semantic Kernel', category: 'agent-framework', npm: ['semantic-kernel'], pypi: ['semantic-kernel'], pythonModules: ['semantic_kernel'] },
  { name: 'Vercel AI SDK', category: 'agent-framework', npm: ['ai', '@ai-sdk/openai', '@ai-sdk/anthropic'] },
  { name: 'Mastra', category: 'agent-framework', npm: ['@mastra/core', 'mastra'] },
  { name: 'Haystack', category: 'agent-framework', pypi: ['haystack-ai', 'farm-haystack'], pythonModules: ['haystack'] },
  { name: 'smolagents', category: 'agent-framework', pypi: ['smolagents'], pythonModules: ['smolagents'] },
  { name: 'PydanticAI', category: 'agent-framework', pypi: ['pydantic-ai', 'pydantic-ai-slim'], pythonModules: ['pydantic_ai'] },
  { name: 'DSPy', category: 'agent-framework', pypi: ['dspy', 'dspy-ai'], pythonModules: ['dspy'] },
  { name: 'MCP SDK', category: 'mcp-sdk', npm: ['@modelcontextprotocol/sdk'], pypi: ['mcp', 'fastmcp'], pythonModules: ['mcp', 'fastmcp'] },
  { name: 'OpenAI SDK', category: 'llm-sdk', npm: ['openai'], pypi: ['openai'], pythonModules: ['openai'] },
  { name: 'Anthropic SDK', category: 'llm-sdk', npm: ['@anthropic-ai/sdk'], pypi: ['anthropic'], pythonModules: ['anthropic'] },
  { name: 'Google Gen AI SDK', category: 'llm-sdk', npm: ['@google/genai', '@google/generative-ai'], pypi: ['google-genai', 'google-generativeai'], pythonModules: ['google.genai', 'google.generativeai'] },
  { name: 'Mistral SDK', category: 'llm-sdk', npm: ['@mistralai/mistralai'], pypi: ['mistralai'], pythonModules: ['mistralai'] },
  { name: 'LiteLLM', category: 'llm-sdk', pypi: ['litellm'], pythonModules: ['litellm'] },
  { name: 'agentguard', category: 'agentguard', npm: ['agentguard'], pypi: ['agentguard'], pythonModules: ['agentguard'] },
];

const foldPypi = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

export function byNpmPackage(pkg: string): Fingerprint | undefined {
  return FINGERPRINTS.find((f) => f.npm?.includes(pkg));
}

export function byPypiPackage(pkg: string): Fingerprint | undefined {
  const folded = foldPypi(pkg);
  return FINGERPRINTS.find((f) => f.pypi?.some((p) => foldPypi(p) === folded));
}

/** A Python import (`langchain_openai.chat`, `google.genai`) to its fingerprint. */
export function byPythonModule(module: string): Fingerprint | undefined {
  return FINGERPRINTS.find((f) => f.pythonModules?.some((m) => module === m || module.startsWith(`${m}.`)));
}

/** Environment variable names that hold LLM credentials (names only are ever read). */
export const LLM_CREDENTIAL_ENV: readonly RegExp[] = [
  /^OPENAI_API_KEY$/,
  /^ANTHROPIC_API_KEY$/,
  /^AZURE_OPENAI_[A-Z_]*(KEY|TOKEN)$/,
  /^GEMINI_API_KEY$/,
  /^GOOGLE_API_KEY$/,
  /^MISTRAL_API_KEY$/,
  /^COHERE_API_KEY$/,
  /^GROQ_API_KEY$/,
  /^TOGETHER_API_KEY$/,
  /^OPENROUTER_API_KEY$/,
  /^DEEPSEEK_API_KEY$/,
  /^XAI_API_KEY$/,
  /^HF_TOKEN$/,
  /^HUGGING_FACE_HUB_TOKEN$/,
  /^AWS_BEARER_TOKEN_BEDROCK$/,
];

/**
 * Environment variable names that wire a process to agentguard (sidecar mode). Both must be usable for the process
 * to count as secured: a non-empty AGENTGUARD_TOKEN and an http(s) AGENTGUARD_SIDECAR_URL.
 */
export const AGENTGUARD_ENV: readonly string[] = ['AGENTGUARD_SIDECAR_URL', 'AGENTGUARD_TOKEN'];

/** Agent command-line tools, by executable name. */
export const AGENT_CLIS: readonly { name: string; executables: string[] }[] = [
  { name: 'Claude Code', executables: ['claude'] },
  { name: 'Codex CLI', executables: ['codex'] },
  { name: 'Gemini CLI', executables: ['gemini'] },
  { name: 'Aider', executables: ['aider'] },
  { name: 'Goose', executables: ['goose'] },
  { name: 'OpenHands', executables: ['openhands'] },
  { name: 'Cursor agent', executables: ['cursor-agent'] },
];
