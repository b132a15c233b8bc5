import type { ErrorBody } from '../errors/body.js';
import type { errorBodyJsonSchema } from '../errors/body.js';

// Compile-time checks that a JSON Schema written as a TypeScript object and the TypeScript type of the same value
// agree: the same property names, and the same ones required. A field added to one and not the other fails the
// typecheck (`npm run typecheck`), not a user.

/** true when A and B are the same type. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** The keys of T that are not optional. */
export type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** true when schema S describes the properties of T, and requires exactly T's non-optional ones. */
export type Agree<T, S extends { properties: object; required: readonly string[] }> = Same<keyof T, keyof S['properties']> extends true
  ? Same<RequiredKeys<T>, S['required'][number]>
  : false;

/** Fails to compile unless T is true. */
export type MustBeTrue<T extends true> = T;

/** The error shape (src/core/errors/body.ts): its schema is the sidecar's ErrorResponse and schemas/cli/error.json. */
export type ErrorSchemaAgreesWithType = [
  MustBeTrue<Agree<ErrorBody, typeof errorBodyJsonSchema>>,
  MustBeTrue<Agree<ErrorBody['error'], typeof errorBodyJsonSchema.properties.error>>,
];
