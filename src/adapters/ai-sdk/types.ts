import type { LanguageModelMiddleware } from 'ai';

/** The AI SDK's language-model middleware spec (v4 in ai 7), and the shapes it hands over, taken from `ai` itself. */
export type Middleware = LanguageModelMiddleware;
type TransformArgs = Parameters<NonNullable<Middleware['transformParams']>>[0];
export type CallOptions = TransformArgs['params'];
export type LanguageModel = TransformArgs['model'];
export type GenerateResult = Awaited<ReturnType<NonNullable<Middleware['wrapGenerate']>>>;
export type StreamResult = Awaited<ReturnType<NonNullable<Middleware['wrapStream']>>>;
export type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
export type Usage = GenerateResult['usage'];
