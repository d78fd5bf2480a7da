// Avro logical types of tickcast's schemas, and the options every avsc type of a topic is built with.
//
// `float32-array` annotates an array of doubles that lives in memory as a Float32Array: a feature row is 180
// numbers a model reads as float32 anyway, and copies into wasm memory whole. From a typed array that copy is a
// memcpy of 720 bytes a row, where from a JS array of doubles V8 walks each value (~3 ms against ~0.6 ms for
// 5,000 rows), and the SIMD clamp then works four values a lane, not two (issue 13 §6). On the wire it stays
// the plain array of doubles: readers that do not know the annotation (Java, other clients) read an array of
// doubles, a schema with it reads data written without it, and the registry sees a compatible schema.
import avro from 'avsc';

class Float32ArrayType extends avro.types.LogicalType {
  protected override _fromValue(val: unknown): Float32Array {
    return val instanceof Float32Array ? val : Float32Array.from(val as ArrayLike<number>);
  }

  protected override _toValue(any: unknown): number[] | undefined {
    if (any instanceof Float32Array) return Array.from(any);
    return Array.isArray(any) ? (any as number[]) : undefined;
  }

  protected override _resolve(type: avro.Type): ((val: unknown) => Float32Array) | undefined {
    if (avro.Type.isType(type, 'array', 'logical:float32-array')) return (val) => this._fromValue(val);
    return undefined;
  }

  // Every value of a Float32Array is a double: the check the engine runs on each emitted record need not copy it.
  _check(any: unknown, flags: unknown, hook?: (value: unknown, type: avro.Type) => void, path?: string[]): boolean {
    if (any instanceof Float32Array) return true;
    const base = avro.types.LogicalType.prototype as unknown as {
      _check(this: avro.Type, any: unknown, flags: unknown, hook?: unknown, path?: string[]): boolean;
    };
    return base._check.call(this, any, flags, hook, path);
  }
}

/**
 * A JSON.stringify replacer that writes a record as the wire has it: a `float32-array` field (a feature row) as
 * an array, not as the {"0": …} JSON makes of a typed array.
 */
export function typedArraysAsArrays(_key: string, v: unknown): unknown {
  return v instanceof Float32Array ? Array.from(v) : v;
}

/**
 * The options of every avsc type built for a topic (reader and writer types alike). A new object each call:
 * avsc keeps the named types it builds in its options (`registry`), and a name defined twice is an error.
 */
export function avroOptions(): Partial<avro.ForSchemaOptions> {
  return { wrapUnions: false, logicalTypes: { 'float32-array': Float32ArrayType } };
}
