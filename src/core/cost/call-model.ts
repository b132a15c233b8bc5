/** The provider and model of an LLM action named `<provider>.<model>` (the model may hold dots: `openai.gpt-4.1`). */
export function callModel(name: string): { provider: string; model: string } | undefined {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { provider: name.slice(0, dot), model: name.slice(dot + 1) };
}

/** The output-token cap a request sets: OpenAI chat `max_completion_tokens`/`max_tokens`, Responses `max_output_tokens`, Anthropic `max_tokens`. */
export function requestedOutputLimit(input: Record<string, unknown> | undefined): number | undefined {
  for (const key of ['max_completion_tokens', 'max_output_tokens', 'max_tokens']) {
    const value = input?.[key];
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  }
  return undefined;
}

/** How many answers a request asks for (OpenAI `n`); each is billed. */
export function requestedChoices(input: Record<string, unknown> | undefined): number {
  const n = input?.n;
  return typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1;
}
