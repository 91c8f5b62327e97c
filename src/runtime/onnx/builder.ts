import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';

// onnx-proto is CommonJS (protobufjs static code): the namespace hangs off the default export.
const { onnx } = onnxProto;

export const OPSET = 17;
/** IR version 8 is the one ONNX 1.12 pairs with opset 17. */
const IR_VERSION = 8;

/** A symbolic dimension (e.g. 'N') or a fixed size. */
export type Dim = number | string;
export type ElemType = 'float32' | 'int64';

const elemCode: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

/** Marks a number attribute as FLOAT even when it happens to be an integer (e.g. alpha: f(1)). */
export interface FloatAttr {
  readonly float: number;
}
export const f = (v: number): FloatAttr => ({ float: v });

export type AttrValue = number | FloatAttr | number[] | FloatAttr[] | string;
export type Attrs = Record<string, AttrValue | undefined>;

function attribute(name: string, value: AttrValue): O.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    const nums = (value as (number | FloatAttr)[]).map((v) => (typeof v === 'number' ? v : v.float));
    const isFloat = (value as unknown[]).some((v) => typeof v !== 'number') || nums.some((v) => !Number.isInteger(v));
    return isFloat ? { name, type: T.FLOATS, floats: nums } : { name, type: T.INTS, ints: nums };
  }
  return { name, type: T.FLOAT, f: value.float };
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): O.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemCode[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function rawBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian; so are the platforms onnxruntime-node ships for.
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/**
 * A small ONNX graph builder (opset 17: note Reduce{Max,Min,Mean} take `axes` as an attribute
 * there, ReduceSum as an int64 input). Values are referred to by name (plain strings); `op` returns the
 * name of the node's output (or names, when `outputs` > 1).
 *
 *   const g = new GraphBuilder('demo');
 *   const x = g.input('images', [ 'N', 1, 64, 64 ]);
 *   const y = g.op('Conv', [x, g.constant(weights, [1, 1, 3, 3])], { pads: [1, 1, 1, 1] });
 *   g.output(y, 'anomaly_map', ['N', 1, 64, 64]);
 *   const bytes = g.toBytes();
 */
export class GraphBuilder {
  private readonly nodes: O.INodeProto[] = [];
  private readonly inits: O.ITensorProto[] = [];
  private readonly inputs: O.IValueInfoProto[] = [];
  private readonly outputs: O.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  readonly name: string;
  readonly docString: string;

  constructor(name = 'graph', docString = '') {
    this.name = name;
    this.docString = docString;
  }

  /** A fresh value name with the given prefix. */
  fresh(prefix = 'v'): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.used.has(n));
    this.used.add(n);
    return n;
  }

  input(name: string, dims: readonly Dim[], type: ElemType = 'float32'): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares a graph output; adds an Identity when the value has another name. */
  output(value: string, name: string, dims: readonly Dim[], type: ElemType = 'float32'): string {
    if (value !== name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: this.fresh('Identity') });
    }
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A float32 initializer. `data` length must equal the product of `dims`. */
  constant(data: Float32Array | readonly number[], dims: readonly number[], name?: string): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    this.checkSize(arr.length, dims);
    return this.addInit(name, 'float32', dims, rawBytes(arr));
  }

  /** An int64 initializer (shapes, axes, pads of ops that take them as inputs). */
  constantInt64(data: readonly (number | bigint)[], dims: readonly number[] = [data.length], name?: string): string {
    const arr = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.checkSize(arr.length, dims);
    return this.addInit(name, 'int64', dims, rawBytes(arr));
  }

  /** A float32 scalar initializer (shape []). */
  scalar(value: number, name?: string): string {
    return this.constant([value], [], name);
  }

  /** Adds a node. Inputs may be '' for an omitted optional input. */
  op(opType: string, inputs: readonly string[], attrs?: Attrs, options?: { name?: string }): string;
  op(opType: string, inputs: readonly string[], attrs: Attrs | undefined, options: { outputs: number; names?: string[] }): string[];
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, options: { name?: string; outputs?: number; names?: string[] } = {}): string | string[] {
    const count = options.outputs ?? 1;
    const outs = options.names ?? (options.name ? [options.name] : Array.from({ length: count }, () => this.fresh(opType)));
    for (const o of options.names ?? (options.name ? [options.name] : [])) this.claim(o);
    const attribute_ = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    this.nodes.push({ opType, input: [...inputs], output: outs, name: this.fresh(`n_${opType}`), attribute: attribute_ });
    return options.outputs === undefined ? outs[0]! : outs;
  }

  /** Serialized ModelProto. */
  toBytes(meta: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'spectro-gateway',
      producerVersion: '1',
      docString: this.docString,
      metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private addInit(name: string | undefined, type: ElemType, dims: readonly number[], raw: Uint8Array): string {
    const n = name ?? this.fresh('c');
    if (name) this.claim(name);
    this.inits.push({ name: n, dataType: elemCode[type], dims: [...dims], rawData: raw });
    return n;
  }

  private claim(name: string) {
    if (this.used.has(name)) throw new Error(`ONNX value name "${name}" is used twice`);
    this.used.add(name);
  }

  private checkSize(length: number, dims: readonly number[]) {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== length) throw new Error(`initializer has ${length} values, dims [${dims.join(',')}] need ${size}`);
  }
}

/** Reads a serialized model back (for validation: inputs, outputs, opset). */
export function decodeModel(bytes: Uint8Array): O.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
