/**
 * A small builder for ONNX graphs as plain ModelMessage objects (see proto.ts): graph
 * inputs/outputs with symbolic or fixed dimensions, initializers stored as little-endian
 * `raw_data`, and nodes with generated value names. Produces ONNX IR 8 / opset 17 models
 * in the default domain, like the toy models of fixtures/models.
 */
import type { DType } from "@edmkit/core";
import {
  type AttributeMessage,
  AttributeType,
  DataType,
  type GraphMessage,
  type ModelMessage,
  type NodeMessage,
  type TensorMessage,
  type ValueInfo,
} from "./proto.js";

export const IR_VERSION = 8;
export const OPSET = 17;
export const PRODUCER = { name: "@edmkit/conformance", version: "0.1.0" };

export type AttrValue = number | readonly number[] | { float: number } | { ints: readonly number[] };

/** Element type number of a float dtype. */
export function floatType(dtype: DType): number {
  return dtype === "float32" ? DataType.FLOAT : DataType.DOUBLE;
}

/** Little-endian bytes of numbers stored as `dataType` (FLOAT, DOUBLE or INT64). */
export function rawBytes(values: ArrayLike<number>, dataType: number): Uint8Array {
  const width = dataType === DataType.FLOAT ? 4 : 8;
  const buf = new Uint8Array(values.length * width);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dataType === DataType.FLOAT) view.setFloat32(i * 4, v, true);
    else if (dataType === DataType.DOUBLE) view.setFloat64(i * 8, v, true);
    else if (dataType === DataType.INT64) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`rawBytes: ${v} is not an int64 value`);
      view.setBigInt64(i * 8, BigInt(v), true);
    } else throw new RangeError(`rawBytes: unsupported data_type ${dataType}`);
  }
  return buf;
}

/** Numbers of a TensorProto (raw_data or the typed *_data fields), as float64 values. */
export function tensorValues(t: TensorMessage): Float64Array {
  const n = (t.dims ?? []).reduce((a, b) => a * b, 1);
  const type = t.data_type ?? DataType.UNDEFINED;
  let out: Float64Array;
  if (t.raw_data?.length) {
    const raw = t.raw_data;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (type === DataType.FLOAT) out[i] = view.getFloat32(i * 4, true);
      else if (type === DataType.DOUBLE) out[i] = view.getFloat64(i * 8, true);
      else if (type === DataType.INT64) out[i] = Number(view.getBigInt64(i * 8, true));
      else throw new RangeError(`tensor ${t.name}: unsupported data_type ${type}`);
    }
  } else {
    const src =
      type === DataType.FLOAT
        ? t.float_data
        : type === DataType.DOUBLE
          ? t.double_data
          : type === DataType.INT64
            ? t.int64_data
            : undefined;
    if (!src) throw new RangeError(`tensor ${t.name}: unsupported data_type ${type}`);
    out = Float64Array.from(src);
  }
  if (out.length !== n)
    throw new RangeError(`tensor ${t.name}: ${out.length} values for dims [${(t.dims ?? []).join(", ")}]`);
  return out;
}

function attribute(name: string, v: AttrValue): AttributeMessage {
  if (typeof v === "number") {
    if (!Number.isInteger(v))
      throw new RangeError(`attribute ${name}: ${v} is not an integer (use {float: v})`);
    return { name, type: AttributeType.INT, i: v };
  }
  if ("float" in v) return { name, type: AttributeType.FLOAT, f: v.float };
  const ints = "ints" in v ? v.ints : v;
  return { name, type: AttributeType.INTS, ints: [...ints] };
}

export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  /** `dtype` is the float type of the graph's inputs, outputs and float constants. */
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}

  private unique(base: string): string {
    let n = base;
    while (this.used.has(n)) n = `${base}_${++this.counter}`;
    this.used.add(n);
    return n;
  }

  private valueInfo(name: string, shape: readonly (number | string)[], elemType: number): ValueInfo {
    return {
      name,
      type: {
        tensor_type: {
          elem_type: elemType,
          shape: { dim: shape.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) },
        },
      },
    };
  }

  /** Declare a graph input, by default of the graph's float type. */
  input(name: string, shape: readonly (number | string)[], elemType = floatType(this.dtype)): string {
    if (this.used.has(name)) throw new Error(`GraphBuilder: name "${name}" is taken`);
    this.used.add(name);
    this.inputs.push(this.valueInfo(name, shape, elemType));
    return name;
  }

  /** Declare a graph output (by default of the graph's float type); `value` is renamed to `name`. */
  output(
    value: string,
    name: string,
    shape: readonly (number | string)[],
    elemType = floatType(this.dtype),
  ): void {
    const node = this.nodes.find((n) => n.output?.includes(value));
    if (!node?.output) throw new Error(`GraphBuilder: output ${value} is not produced by a node`);
    if (value !== name) {
      if (this.used.has(name)) throw new Error(`GraphBuilder: name "${name}" is taken`);
      this.used.add(name);
      node.output = node.output.map((o) => (o === value ? name : o));
      for (const n of this.nodes) n.input = n.input?.map((i) => (i === value ? name : i));
    }
    this.outputs.push(this.valueInfo(name, shape, elemType));
  }

  /** An initializer of the graph's float type (values rounded to it). */
  floats(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    return this.tensor(name, values, dims, floatType(this.dtype));
  }

  /** A float scalar constant (dims []). */
  scalar(name: string, value: number): string {
    return this.floats(name, [value], []);
  }

  /** An int64 initializer (axes, indices). */
  int64s(name: string, values: readonly number[]): string {
    return this.tensor(name, values, [values.length], DataType.INT64);
  }

  private tensor(name: string, values: ArrayLike<number>, dims: readonly number[], dataType: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n)
      throw new RangeError(
        `GraphBuilder: ${values.length} values for initializer ${name} of dims [${dims.join(", ")}]`,
      );
    const nm = this.unique(name);
    this.initializers.push({
      name: nm,
      dims: [...dims],
      data_type: dataType,
      raw_data: rawBytes(values, dataType),
    });
    return nm;
  }

  /** Add a node; returns the name of its (single) output. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outName?: string,
  ): string {
    for (const i of inputs)
      if (!this.used.has(i)) throw new Error(`GraphBuilder: ${opType} input "${i}" is not defined`);
    const out = this.unique(outName ?? `${opType.toLowerCase()}_out`);
    this.nodes.push({
      op_type: opType,
      name: this.unique(`${opType}_${this.nodes.length}`),
      input: [...inputs],
      output: [out],
      ...(Object.keys(attrs).length
        ? { attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) }
        : {}),
    });
    return out;
  }

  graph(): GraphMessage {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }

  model(docString?: string): ModelMessage {
    return {
      ir_version: IR_VERSION,
      opset_import: [{ domain: "", version: OPSET }],
      producer_name: PRODUCER.name,
      producer_version: PRODUCER.version,
      ...(docString ? { doc_string: docString } : {}),
      graph: this.graph(),
    };
  }
}
