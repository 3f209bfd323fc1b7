/**
 * The Standard Schema interface (https://standardschema.dev, `@standard-schema/spec` 1.1.0), copied as its spec
 * invites so that no schema library, and not the spec package either, is a dependency of the runtime. zod (3.24+,
 * 4), valibot (1.0+) and arktype (2.0+) schemas implement it, so any of them can say what a processor reads.
 * The names are flattened out of the spec's `StandardSchemaV1` namespace; the shapes are the spec's.
 */

/** A schema of any library that implements Standard Schema v1: what it accepts, and what it turns that into. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The standard's properties, under a name no library uses for anything else. */
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The properties a Standard Schema carries under `~standard`. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the standard: 1. */
  readonly version: 1;
  /** The schema library's name (`zod`, `valibot`, `arktype`, ...). */
  readonly vendor: string;
  /** Validates a value: the output, or the issues. A schema with async checks returns a promise. */
  readonly validate: (value: unknown, options?: StandardSchemaOptions | undefined) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** The schema's input and output types, for inference only (never set at runtime). */
  readonly types?: StandardSchemaTypes<Input, Output> | undefined;
}

/** Options a caller may pass to `validate`. */
export interface StandardSchemaOptions {
  /** Vendor-specific parameters. */
  readonly libraryOptions?: Record<string, unknown> | undefined;
}

/** What `validate` returns: the output value, or the issues (a falsy `issues` means success). */
export type StandardSchemaResult<Output> = StandardSchemaSuccess<Output> | StandardSchemaFailure;

/** A value that matches: the schema's output. */
export interface StandardSchemaSuccess<Output> {
  /** The output, which may differ from the input (defaults, transforms, stripped keys). */
  readonly value: Output;
  /** No issues. */
  readonly issues?: undefined;
}

/** A value that does not match. */
export interface StandardSchemaFailure {
  /** Why not; any array, even an empty one, means failure. */
  readonly issues: readonly StandardSchemaIssue[];
}

/** One reason a value does not match a schema. */
export interface StandardSchemaIssue {
  /** The schema library's message. */
  readonly message: string;
  /** Where in the value, from its root: keys and indexes, or segments that hold them. */
  readonly path?: readonly (PropertyKey | StandardSchemaPathSegment)[] | undefined;
}

/** A path segment as an object (valibot's form). */
export interface StandardSchemaPathSegment {
  /** The key or index. */
  readonly key: PropertyKey;
}

/** A schema's types, for inference only. */
export interface StandardSchemaTypes<Input = unknown, Output = Input> {
  /** What the schema accepts. */
  readonly input: Input;
  /** What it returns for what it accepts. */
  readonly output: Output;
}

/** The type a schema's `validate` produces, as `z.output<...>` or `v.InferOutput<...>` would name it. */
export type InferSchemaOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output'];
